"""What every page must pass in the browser: a label on each input, a name on each button and link (as
Chromium's own accessibility tree computes them), visible focus, no sideways scrolling on a phone,
and nothing loaded from anywhere but the gateway."""

from __future__ import annotations

from playwright.sync_api import Page

# Roles whose elements a person operates or follows: each needs an accessible name.
NAMED_ROLES = {"button", "link", "textbox", "searchbox", "spinbutton", "combobox", "listbox", "checkbox", "radio"}

_UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length))
  .filter(el => !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""

_LABELS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => el.labels && el.labels.length).map(el => [el.id, el.labels[0].textContent.trim()])"""

# Elements reaching past the right edge, unless a scrolling box of their own (a wide table's wrapper) holds
# them; a box only clips what it contains, so an absolutely placed element is held by one at or above its
# offsetParent (its containing block), not by any box between.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = el => {
    const placed = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    let from = placed ? el.offsetParent : el.parentElement;
    if (placed && !from) return false;
    for (let p = from; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; }
    return false; };
  return [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > width + 0.5 && !scrolls(el))
    .map(el => el.outerHTML.slice(0, 160));
}"""

_FOCUS = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return {element: el.outerHTML.slice(0, 120), body: el === document.body, visible: ring || style.boxShadow !== 'none'};
}"""


def unlabelled_inputs(page: Page) -> list[str]:
    return page.evaluate(_UNLABELLED)


def labels_find_their_inputs(page: Page) -> list[str]:
    """Each label text, handed to `get_by_label` as a person would read it, finds its own input."""
    wrong = []
    for element_id, text in page.evaluate(_LABELS):
        found = page.get_by_label(text, exact=True)
        ids = [found.nth(i).get_attribute("id") for i in range(found.count())]
        if element_id not in ids:
            wrong.append(f"{text!r} finds {ids}, not #{element_id}")
    return wrong


def unnamed_controls(page: Page) -> list[str]:
    """Controls with an empty accessible name in Chromium's accessibility tree."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        missing = []
        for node in nodes:
            role = node.get("role", {}).get("value")
            if node.get("ignored") or role not in NAMED_ROLES or str(node.get("name", {}).get("value", "")).strip():
                continue
            described = cdp.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
            missing.append(f"{role}: <{described['localName']} {described.get('attributes', [])}>")
        return missing
    finally:
        cdp.detach()


def sideways_overflow(page: Page) -> list[str]:
    """What makes the page scroll sideways (empty when it does not)."""
    scrolls = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    return page.evaluate(_OVERFLOWING) or (["the document is wider than the viewport"] if scrolls else [])


def focus_without_a_ring(page: Page, stops: int = 80) -> list[str]:
    """Tabs from the top through the page (up to `stops` tab stops); the elements that showed no focus ring."""
    bare, seen_first = [], None
    for _ in range(stops):
        page.keyboard.press("Tab")
        seen = page.evaluate(_FOCUS)
        if seen["body"] or seen["element"] == seen_first:
            break  # past the last element, or round again
        seen_first = seen_first or seen["element"]
        if not seen["visible"]:
            bare.append(seen["element"])
    page.evaluate("document.activeElement && document.activeElement.blur()")
    return bare


def problems(page: Page, *, focus: bool = True) -> dict[str, list[str]]:
    """Every check at the page's present width (focus rings only if `focus`); an empty list for each that passes."""
    return {
        "unlabelled inputs": unlabelled_inputs(page),
        "labels that miss": labels_find_their_inputs(page),
        "unnamed controls": unnamed_controls(page),
        "sideways scrolling": sideways_overflow(page),
        "focus without a ring": focus_without_a_ring(page) if focus else [],
    }
