// Tokens: the access token lives in memory only; the refresh token in localStorage, so
// a reload or a new tab stays signed in (see web/README.md for the XSS trade-off).
// Refreshes are serialised across tabs with a Web Lock, because presenting a rotated
// refresh token twice revokes the whole family (CONTRACT.md).
import { Store } from "./store";
import type { TokenPair, User } from "./api/client";

const REFRESH_KEY = "edvent.refresh";
let accessToken: string | null = null;
let refreshTimer: number | undefined;
let inFlight: Promise<boolean> | null = null;

export const currentUser = new Store<User | null>(null);


function storedRefresh(): string | null {
  return localStorage.getItem(REFRESH_KEY);
}

export function accept(pair: TokenPair): void {
  accessToken = pair.access_token;
  localStorage.setItem(REFRESH_KEY, pair.refresh_token);
  window.clearTimeout(refreshTimer);
  // Refresh a little before expiry so a request rarely meets a 401.
  const ms = Math.max(5, pair.expires_in - 30) * 1000;
  refreshTimer = window.setTimeout(() => void refresh(), ms);
}

export function forget(): void {
  accessToken = null;
  localStorage.removeItem(REFRESH_KEY);
  window.clearTimeout(refreshTimer);
  currentUser.value = null;
}

async function rotate(): Promise<boolean> {
  const token = storedRefresh();
  if (!token) return false;
  const answer = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: token }),
  }).catch(() => null);
  if (answer === null) return false; // offline: keep the token and try later
  if (!answer.ok) {
    // Only drop it if no other tab replaced it meanwhile.
    if (storedRefresh() === token) forget();
    return false;
  }
  accept((await answer.json()) as TokenPair);
  return true;
}

/** A fresh access token from the stored refresh token; false when signed out. */
export function refresh(): Promise<boolean> {
  if (!inFlight) {
    const locks = navigator.locks;
    const run = (locks ? locks.request("edvent-refresh", rotate) : rotate()) as Promise<boolean>;
    inFlight = run.finally(() => {
      inFlight = null;
    });
  }
  return inFlight;
}

function withToken(request: Request): Request {
  if (!accessToken) return request;
  const headers = new Headers(request.headers);
  headers.set("Authorization", `Bearer ${accessToken}`);
  return new Request(request, { headers });
}

export async function authFetch(request: Request): Promise<Response> {
  const again = request.clone();
  const answer = await fetch(withToken(request));
  const isAuthCall = new URL(request.url).pathname.startsWith("/api/v1/auth/");
  if (answer.status !== 401 || isAuthCall || !storedRefresh()) return answer;
  return (await refresh()) ? fetch(withToken(again)) : answer;
}

export function signedInToken(): boolean {
  return accessToken !== null;
}
