/** Keyboard shortcuts: j/k move, Enter opens, Esc closes, / focuses search. */
export interface KeyboardActions {
  move(delta: number): void;
  open(): void;
  close(): boolean;
  focusSearch(): void;
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return target.closest('input, textarea, select, dialog') !== null;
}

export function bindKeyboard(actions: KeyboardActions): void {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (event.key === 'Escape') {
      if (target instanceof HTMLElement && target.closest('dialog')) return;
      if (actions.close()) event.preventDefault();
      return;
    }
    if (isTyping(target)) return;
    // Buttons and links keep their own Enter.
    const onControl = target instanceof HTMLElement && target.closest('button, a, summary, details') !== null;
    switch (event.key) {
      case 'j':
        event.preventDefault();
        actions.move(1);
        break;
      case 'k':
        event.preventDefault();
        actions.move(-1);
        break;
      case 'Enter':
        if (onControl) return;
        event.preventDefault();
        actions.open();
        break;
      case '/':
        event.preventDefault();
        actions.focusSearch();
        break;
    }
  });
}
