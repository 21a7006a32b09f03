/**
 * Telling an operator who is not looking: a new visitor message in a conversation not on screen
 * (or while the tab is hidden) plays a short chime and, when the browser allows it, shows a
 * desktop notification that opens the conversation. The bell in the top bar turns both on and off
 * (kept per browser in localStorage); turning it on asks the browser's permission, which browsers
 * only grant from a click.
 */
const KEY = 'desk:notify';
/** A notification's body, at most (the rest is in the inbox). */
const BODY_MAX = 140;

export interface Notifier {
  /** A visitor wrote in `conversation` (its list label `who`); `onScreen`: the operator is looking at it. */
  visitorMessage(conversation: string, who: string, body: string, onScreen: boolean): void;
}

export function setupNotifications(button: HTMLButtonElement, onOpen: (conversation: string) => void): Notifier {
  let on = localStorage.getItem(KEY) !== 'off';
  let audio: AudioContext | undefined;

  const render = () => {
    const label = on ? 'Notifications on' : 'Notifications off';
    button.setAttribute('aria-pressed', String(on));
    button.setAttribute('aria-label', label);
    button.title = label;
  };
  button.addEventListener('click', () => {
    on = !on;
    localStorage.setItem(KEY, on ? 'on' : 'off');
    if (on && 'Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    render();
  });
  render();

  function chime(): void {
    try {
      audio ??= new AudioContext();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch {
      // No audio (no user gesture yet, or none at all): the notification still shows.
    }
  }

  return {
    visitorMessage(conversation, who, body, onScreen) {
      if (!on || onScreen) return;
      chime();
      if (!('Notification' in window) || Notification.permission !== 'granted') return;
      const n = new Notification(`${who} wrote`, { body: body.length > BODY_MAX ? `${body.slice(0, BODY_MAX - 1)}…` : body, tag: `desk-${conversation}` });
      n.onclick = () => {
        window.focus();
        onOpen(conversation);
        n.close();
      };
    },
  };
}
