/** Shared between the loader and the lazily loaded UIs (types only: nothing of it is bundled twice). */
export interface PrechatField {
  name: string;
  label: string;
  type: 'text' | 'email' | 'tel';
  required: boolean;
}

export interface WidgetConfig {
  id: string;
  color: string;
  label: string;
  position: 'bottom-right' | 'bottom-left';
  logoUrl: string | null;
  greeting: string | null;
  call: boolean;
  chat: boolean;
  open: boolean;
  prechatFields: PrechatField[];
}

/** What the loader hands a lazily loaded UI. */
export interface UiContext {
  /** The control plane's origin (where widget.js came from). */
  base: string;
  config: WidgetConfig;
  /** The panel inside the shadow root the UI draws into. */
  panel: HTMLElement;
  /** The visitor's answers to the pre-call/pre-chat form. */
  visitor: Record<string, string>;
  /** Back to the widget's start screen. */
  close(): void;
  /** Shows the leave-a-message form. */
  offline(note?: string): void;
}
