/** Copies text; falls back to a hidden textarea where the async Clipboard API is unavailable (plain http on a LAN). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission denied or not focused: try the old way.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Shows "Copied" (or a failure) on a button for a moment. */
export function flashButton(button: HTMLButtonElement, ok: boolean): void {
  const label = button.dataset.label ?? button.textContent ?? '';
  button.dataset.label = label;
  button.textContent = ok ? 'Copied' : 'Copy failed';
  button.classList.toggle('is-done', ok);
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove('is-done');
  }, 1500);
}
