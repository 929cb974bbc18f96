/** The key dialog and the scope badge ("Company acme" / "All companies (admin)"). */
import type { KeyPrompt } from './api';
import { byId } from './dom';
import type { WhoAmI } from './types';

/** A KeyPrompt backed by the `<dialog>` in index.html. */
export function dialogKeyPrompt(): KeyPrompt {
  const dialog = byId<HTMLDialogElement>('key-dialog');
  const input = byId<HTMLInputElement>('key-input');
  const reason = byId('key-reason');
  return (why) =>
    new Promise((resolve) => {
      reason.textContent = why === 'rejected'
        ? 'That key was not accepted: it may be mistyped or revoked. Enter another key.'
        : 'This log viewer needs an API key. Ask your administrator for a viewer key.';
      reason.classList.toggle('is-error', why === 'rejected');
      input.value = '';
      dialog.returnValue = '';
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' && input.value.trim() ? input.value.trim() : null), { once: true });
      if (!dialog.open) dialog.showModal();
      input.focus();
    });
}

export function scopeLabel(who: WhoAmI): string {
  if (who.companyId) return `Company ${who.companyId}`;
  return who.admin ? 'All companies (admin)' : 'No company';
}

export function renderScope(who: WhoAmI | null, hasKey: boolean): void {
  const scope = byId('scope');
  const signOut = byId<HTMLButtonElement>('sign-out');
  scope.hidden = who === null;
  if (who) {
    scope.textContent = scopeLabel(who);
    scope.title = `Signed in as ${who.name}`;
  }
  signOut.hidden = !hasKey;
}
