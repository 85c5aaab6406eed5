// Signing in and out, and restoring a session on load (the silent refresh).
import { identity, need, type User } from "./api/client";
import { accept, currentUser, forget, refresh } from "./auth";

async function loadMe(): Promise<User> {
  const me = await need(identity.GET("/api/v1/users/me"));
  currentUser.value = me;
  return me;
}

export async function signIn(email: string, password: string): Promise<User> {
  accept(await need(identity.POST("/api/v1/auth/login", { body: { email, password } })));
  return loadMe();
}

export async function signUp(email: string, password: string, fullName: string): Promise<User> {
  await need(
    identity.POST("/api/v1/auth/register", { body: { email, password, full_name: fullName } }),
  );
  return signIn(email, password);
}

export async function signOut(): Promise<void> {
  const token = localStorage.getItem("edvent.refresh");
  forget();
  if (token) {
    await identity.POST("/api/v1/auth/logout", { body: { refresh_token: token } }).catch(() => null);
  }
}

/** On start: a stored refresh token becomes a session without asking for a password. */
export async function restore(): Promise<void> {
  if (!(await refresh())) return;
  await loadMe().catch(() => forget());
}

/** Roles change (an admin may promote you): re-read who we are after a refresh. */
export async function reloadMe(): Promise<void> {
  if (currentUser.value && (await refresh())) await loadMe().catch(() => null);
}
