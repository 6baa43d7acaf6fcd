// Copy buttons: <button data-copy-target="ID" hidden> copies the text of #ID. Without JavaScript
// the button stays hidden and the text is there to select by hand.
(function () {
  "use strict";
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentElement.querySelector("[data-copy-status]");
    if (!target) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.textContent.trim();
      var done = function (message) { if (status) { status.textContent = message; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { done("Copied."); },
          function () { selectText(target); done("Selected: press Ctrl+C (or Cmd+C) to copy."); }
        );
      } else {
        selectText(target);
        done(document.execCommand && document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C (or Cmd+C) to copy.");
      }
    });
  });
})();
