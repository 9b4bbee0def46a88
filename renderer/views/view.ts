/** What every view is: an entry of the navigation that mounts into the main area. */
import type { Api, Session } from '../api.js';

export interface AppContext {
  api: Api;
  session: Session;
  /** Query parameters of the current route (`#/logs?id=users/s01` → id). */
  params: URLSearchParams;
}

export interface View {
  /** Route (`#/<id>`) and stable id for tests. */
  id: string;
  title: string;
  /** Shown in the navigation only when this holds (e.g. the desktop-only view). */
  available?: () => boolean;
  /** Builds the view into `root`; returns what to call when the view is left (stop polling…). */
  mount(root: HTMLElement, ctx: AppContext): () => void;
}
