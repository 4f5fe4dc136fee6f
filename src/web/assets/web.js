// Copy buttons: copy the text of the code block beside the button. Nothing else runs in the page.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest(".copy-btn") : null;
  if (!button) return;
  const code = button.parentElement?.querySelector("code");
  if (!code) return;
  try {
    await navigator.clipboard.writeText(code.textContent ?? "");
    button.textContent = "Copied";
  } catch {
    // No clipboard (plain http from another host): select the text so the user can copy it.
    const range = document.createRange();
    range.selectNodeContents(code);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    button.textContent = "Selected";
  }
  setTimeout(() => {
    button.textContent = "Copy";
  }, 1500);
});
