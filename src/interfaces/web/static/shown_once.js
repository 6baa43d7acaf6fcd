// The page that shows a new key's secret is the answer to a POST. Reloading it would post the form
// again and make a second key (the browser asks first only when this script does not run), so the
// history entry becomes a plain GET of the same address: a reload lists the keys, the secret gone.
(function () {
  "use strict";
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
})();
