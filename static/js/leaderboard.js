// The leaderboard's small behaviours: the "Compare selected (n)" count, the Details toggle, and merging
// pushed rows (apps/live/rows.py sends only changed rows into #leaderboard-inbox, with the page's order).
(function () {
  "use strict";
  if (window.promptlooperLeaderboard) return; // the partial is swapped in again on sort and page changes
  window.promptlooperLeaderboard = true;

  function picked() {
    const count = document.querySelectorAll('input[name="run"][form="leaderboard-compare"]:checked').length;
    document.querySelectorAll(".lb-picked").forEach(function (el) { el.textContent = count ? " (" + count + ")" : ""; });
  }

  function reload(body) {
    if (window.htmx && body.dataset.src) {
      window.htmx.ajax("GET", body.dataset.src, { target: "#experiment-leaderboard", swap: "outerHTML" });
    }
  }

  function merge() {
    const inbox = document.getElementById("leaderboard-inbox");
    const body = document.getElementById("leaderboard-rows");
    if (!inbox || !inbox.hasAttribute("data-order")) return;
    const order = inbox.dataset.order.split(" ").filter(Boolean);
    const rows = Array.from(inbox.children);
    inbox.removeAttribute("data-order");
    if (!body || body.dataset.live !== "true") { inbox.replaceChildren(); return; } // sorted or later page: a snapshot
    rows.forEach(function (row) {
      const old = body.querySelector("#" + CSS.escape(row.id));
      if (old) {
        const box = old.querySelector('input[name="run"]');
        const detail = old.querySelector(".lb-detail");
        const fresh = row.querySelector(".lb-detail");
        if (detail && fresh && detail.childNodes.length && !fresh.childNodes.length) fresh.replaceWith(detail);
        if (box && box.checked) row.querySelector('input[name="run"]').checked = true;
        old.replaceWith(row);
      } else {
        body.append(row);
      }
    });
    Array.from(body.children).forEach(function (row) { if (!order.includes(row.id)) row.remove(); });
    if (order.some(function (id) { return !body.querySelector("#" + CSS.escape(id)); })) { reload(body); return; }
    order.forEach(function (id) { body.append(body.querySelector("#" + CSS.escape(id))); });
    document.querySelectorAll(".lb-total").forEach(function (el) { el.textContent = inbox.dataset.total; });
    document.querySelectorAll(".lb-empty").forEach(function (el) { el.hidden = order.length > 0; });
    picked();
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches('input[name="run"][form="leaderboard-compare"]')) picked();
  });
  // A second click on Details folds the summary away instead of fetching it again.
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest(".lb-expand");
    if (!toggle || toggle.getAttribute("aria-expanded") !== "true") return;
    event.preventDefault();
    event.stopPropagation();
    const detail = document.getElementById(toggle.getAttribute("aria-controls"));
    if (detail) detail.replaceChildren();
    toggle.setAttribute("aria-expanded", "false");
  }, true);
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (target && target.classList.contains("lb-detail")) {
      const toggle = document.querySelector('[aria-controls="' + target.id + '"]');
      if (toggle) toggle.setAttribute("aria-expanded", "true");
    }
    picked();
  });
  document.addEventListener("htmx:oobAfterSwap", merge);
  document.addEventListener("htmx:wsAfterMessage", merge);
})();
