// Deployments pages: copy a shown-once key or a snippet, and confirm a form marked data-confirm before it posts.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = "value" in source ? source.value : source.textContent;
  const done = () => { button.dataset.label ??= button.textContent; button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => source.select?.());
  } else if (source.select) {
    source.select();
    if (document.execCommand("copy")) done();
  }
});

// Capture phase: runs before htmx's own submit handling, so a cancelled confirm stops the request too.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
