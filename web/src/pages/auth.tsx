import { useLocation } from "preact-iso";
import { signIn, signUp } from "../session";
import { Failure, Page, formValues, useAction } from "../ui";

function next(query: Record<string, string>): string {
  const to = query.next ?? "/";
  // Only paths on this site: never an open redirect.
  return to.startsWith("/") && !to.startsWith("//") ? to : "/";
}

export function SignIn() {
  const { route, query } = useLocation();
  const action = useAction(async (v: Record<string, string>) => {
    await signIn(v.email, v.password);
    route(next(query));
  });
  return (
    <Page title="Sign in">
      {query.signed_out === "everywhere" && (
        <p role="status" class="done">
          You were signed out on every device.
        </p>
      )}
      <form class="stack narrow" onSubmit={(e) => action.run(formValues(e))}>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <Failure error={action.error} />
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Signing in…" : "Sign in"}
        </button>
        <p>
          <a href="/forgot-password">Forgot password?</a>
        </p>
        <p>
          New here? <a href="/signup">Create an account</a>.
        </p>
      </form>
    </Page>
  );
}

export function SignUp() {
  const { route } = useLocation();
  const action = useAction(async (v: Record<string, string>) => {
    await signUp(v.email, v.password, v.full_name);
    route("/");
  });
  return (
    <Page title="Create an account">
      <form class="stack narrow" onSubmit={(e) => action.run(formValues(e))}>
        <label>
          Full name
          <input name="full_name" autocomplete="name" required />
        </label>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password <small>(12 to 128 characters)</small>
          <input
            name="password"
            type="password"
            autocomplete="new-password"
            minLength={12}
            maxLength={128}
            required
          />
        </label>
        <Failure error={action.error} />
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Creating…" : "Create account"}
        </button>
        <p>
          Have an account? <a href="/signin">Sign in</a>.
        </p>
      </form>
    </Page>
  );
}
