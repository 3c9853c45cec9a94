// Rating widgets: thumbs and stars are one choice (picking one clears the other), and in the rating
// queue ([data-shortcuts]) keys rate, save and skip. Shortcuts never fire while typing in a field.
(function () {
  "use strict";

  function choose(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"][value="' + value + '"]');
    if (!input) return false;
    input.checked = true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.closest && input.closest("form[data-rating]");
    if (!form || input.type !== "radio" || !input.checked) return;
    var other = input.name === "stars" ? "thumbs" : input.name === "thumbs" ? "stars" : null;
    if (!other) return;
    form.querySelectorAll('input[name="' + other + '"]').forEach(function (radio) { radio.checked = false; });
  });

  function typing(target) {
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "radio" && target.type !== "checkbox");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var queue = document.querySelector("[data-shortcuts]");
    var form = queue && queue.querySelector("form[data-rating]");
    if (!form || typing(event.target)) return;
    // Right after a swap htmx may not have wired the new form yet; a native submit would reload the page.
    if (window.htmx) window.htmx.process(queue);
    var key = event.key;
    var onRadio = event.target.type === "radio";
    var handled = false;
    if (/^[1-5]$/.test(key)) {
      handled = choose(form, "stars", key);
    } else if ((key === "ArrowUp" && !onRadio) || key === "u") {
      handled = choose(form, "thumbs", "up");
    } else if ((key === "ArrowDown" && !onRadio) || key === "d") {
      handled = choose(form, "thumbs", "down");
    } else if (key === "n" || (key === "Enter" && !/^(BUTTON|A)$/.test(event.target.tagName))) {
      form.requestSubmit();
      handled = true;
    } else if (key === "s") {
      var skip = form.querySelector("[data-skip]");
      if (skip) { skip.click(); handled = true; }
    }
    if (handled) event.preventDefault();
  });
})();
