// Refuse an oversized file before uploading it: the server would refuse it too, but only
// after the browser had started sending hundreds of megabytes.
document.addEventListener("DOMContentLoaded", () => {
  const input = document.querySelector("input[type=file][data-max-bytes]");
  if (!input) return;
  const error = document.getElementById("file-error");
  const form = input.form;
  const check = () => {
    const file = input.files && input.files[0];
    const tooLarge = file && file.size > Number(input.dataset.maxBytes);
    error.hidden = !tooLarge;
    if (tooLarge) error.textContent = input.dataset.tooLarge;
    input.setAttribute("aria-invalid", tooLarge ? "true" : "false");
    return !tooLarge;
  };
  input.addEventListener("change", check);
  form.addEventListener("submit", (event) => { if (!check()) event.preventDefault(); });
});
