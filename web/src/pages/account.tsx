// Accounts people manage themselves: their account page (change password, sign out
// everywhere, download their data, delete the account), and the pages behind the
// links identity emails: forgot password, reset password, verify email.
import { useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { api, exportMyData, type AccountUser } from "../api/contract";
import { currentUser, forget } from "../auth";
import { signIn } from "../session";
import { useStore } from "../store";
import { ConfirmButton, Failure, Loading, Page, SignInFirst, formValues, useAction, when } from "../ui";

const PASSWORD_RULE = { minLength: 12, maxLength: 128 };

/** The token of an emailed link, read once; then the address bar and the history
 * forget it, so it is not left in the tab for a later visitor or a screenshot. */
function useLinkToken(): string {
  const { query } = useLocation();
  const [token] = useState(() => query.token ?? "");
  useEffect(() => {
    if (token) window.history.replaceState(window.history.state, "", window.location.pathname);
  }, [token]);
  return token;
}

export function Account() {
  const user = useStore(currentUser) as AccountUser | null;
  if (!user) return <Page title="Your account"><SignInFirst path="/account" /></Page>;
  return (
    <Page title="Your account">
      <dl class="facts account">
        <div>
          <dt>Name</dt>
          <dd>{user.full_name}</dd>
        </div>
        <div>
          <dt>Email</dt>
          <dd>
            {user.email}{" "}
            {user.email_verified === true && <span class="badge ok">verified</span>}
            {user.email_verified === false && <span class="badge">not verified yet: follow the link we emailed you</span>}
          </dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>{user.role.toLowerCase()}</dd>
        </div>
        <div>
          <dt>Member since</dt>
          <dd>{when(user.created_at)}</dd>
        </div>
      </dl>
      <ChangePassword email={user.email} />
      <SignOutEverywhere />
      <DownloadData />
      <DeleteAccount />
    </Page>
  );
}

function ChangePassword({ email }: { email: string }) {
  const [done, setDone] = useState(false);
  const [formKey, setFormKey] = useState(0);
  const change = useAction(async (v: Record<string, string>) => {
    setDone(false);
    if (v.new_password !== v.repeat) throw new ApiError("The two new passwords differ.", 422);
    await api.changePassword(v.current_password, v.new_password);
    // Every other session has ended, and this one's tokens may be refused too: sign in
    // again with the new password, so this tab goes on working.
    await signIn(email, v.new_password).catch(() => forget());
    setFormKey(formKey + 1);
    setDone(true);
  });
  return (
    <section aria-labelledby="change-password">
      <h2 id="change-password">Change password</h2>
      <form class="stack narrow" key={formKey} onSubmit={(e) => change.run(formValues(e))}>
        <label>
          Current password
          <input name="current_password" type="password" autocomplete="current-password" required />
        </label>
        <label>
          New password <small>(12 to 128 characters)</small>
          <input name="new_password" type="password" autocomplete="new-password" required {...PASSWORD_RULE} />
        </label>
        <label>
          Repeat the new password
          <input name="repeat" type="password" autocomplete="new-password" required {...PASSWORD_RULE} />
        </label>
        <Failure error={change.error} />
        {done && (
          <p role="status" class="done">
            Password changed. You were signed out everywhere else.
          </p>
        )}
        <button type="submit" disabled={change.busy}>
          Change password
        </button>
      </form>
    </section>
  );
}

function SignOutEverywhere() {
  const { route } = useLocation();
  return (
    <section aria-labelledby="sign-out-everywhere">
      <h2 id="sign-out-everywhere">Sign out everywhere</h2>
      <p>Ends every session of your account, on every device, this one included.</p>
      <ConfirmButton
        label="Sign out everywhere"
        question="Sign out on every device, this one included?"
        confirm="Yes, sign out everywhere"
        onConfirm={async () => {
          await api.logoutAll();
          forget();
          route("/signin?signed_out=everywhere");
        }}
      />
    </section>
  );
}

function DownloadData() {
  const [available, setAvailable] = useState(true);
  const [note, setNote] = useState<string | null>(null);
  const download = useAction(async () => {
    setNote(null);
    const file = await exportMyData();
    if (file === null) {
      setAvailable(false);
      return;
    }
    if (file === "pending") {
      setNote("Your data is being gathered from every service. Try again in a minute.");
      return;
    }
    const url = URL.createObjectURL(file.blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = file.name;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setNote(`Saved as ${file.name}.`);
  });
  // No export on this platform (404): nothing to offer.
  if (!available) return null;
  return (
    <section aria-labelledby="download-data">
      <h2 id="download-data">Download my data</h2>
      <p>Everything Edvent holds about you: your account, your attempts with their answers, your grades.</p>
      <Failure error={download.error} />
      {note && <p role="status">{note}</p>}
      <button type="button" class="secondary" disabled={download.busy} onClick={() => download.run()}>
        {download.busy ? "Preparing…" : "Download my data"}
      </button>
    </section>
  );
}

function DeleteAccount() {
  const { route } = useLocation();
  const remove = useAction(async (v: Record<string, string>) => {
    await api.deleteMe(v.password);
    forget();
    route("/?account=deleted");
  });
  return (
    <section aria-labelledby="delete-account" class="danger-zone">
      <h2 id="delete-account">Delete my account</h2>
      <p>
        Your email, name and password are erased everywhere, and every session ends. Your exam attempts stay counted in
        statistics without anything that names you. This cannot be undone. If you still own courses, an administrator must
        move them first.
      </p>
      <form class="stack narrow" onSubmit={(e) => remove.run(formValues(e))}>
        <label>
          Your password, to confirm
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <label class="check">
          <input type="checkbox" name="sure" required />
          I understand that this deletes my account for good
        </label>
        <Failure error={remove.error} />
        <button type="submit" class="danger" disabled={remove.busy}>
          Delete my account
        </button>
      </form>
    </section>
  );
}

export function ForgotPassword() {
  const [sent, setSent] = useState(false);
  const request = useAction(async (v: Record<string, string>) => {
    await api.requestReset(v.email.trim());
    setSent(true);
  });
  return (
    <Page title="Forgot your password?">
      {sent ? (
        <p role="status" class="done">
          If an account uses that address, we have emailed it a link to choose a new password. The link works once, for 30
          minutes.
        </p>
      ) : (
        <form class="stack narrow" onSubmit={(e) => request.run(formValues(e))}>
          <p>Enter your account's email address and we will send you a link to choose a new password.</p>
          <label>
            Email
            <input name="email" type="email" autocomplete="username" required />
          </label>
          <Failure error={request.error} />
          <button type="submit" disabled={request.busy}>
            Send the link
          </button>
        </form>
      )}
      <p>
        <a href="/signin">Back to sign in</a>
      </p>
    </Page>
  );
}

export function ResetPassword() {
  const token = useLinkToken();
  const [done, setDone] = useState(false);
  const reset = useAction(async (v: Record<string, string>) => {
    if (v.new_password !== v.repeat) throw new ApiError("The two passwords differ.", 422);
    try {
      await api.confirmReset(token, v.new_password);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) {
        throw new ApiError("This link has been used, has expired or is not valid. Ask for a new one.", 400);
      }
      throw e;
    }
    forget(); // every session ended, this browser's included
    setDone(true);
  });
  if (!token) {
    return (
      <Page title="Choose a new password">
        <p>
          This page needs the link from the email we sent. <a href="/forgot-password">Ask for a new link</a>.
        </p>
      </Page>
    );
  }
  return (
    <Page title="Choose a new password">
      {done ? (
        <p role="status" class="done">
          Your password has been changed and every session has ended. <a href="/signin">Sign in</a> with the new password.
        </p>
      ) : (
        <form class="stack narrow" onSubmit={(e) => reset.run(formValues(e))}>
          <label>
            New password <small>(12 to 128 characters)</small>
            <input name="new_password" type="password" autocomplete="new-password" required {...PASSWORD_RULE} />
          </label>
          <label>
            Repeat the new password
            <input name="repeat" type="password" autocomplete="new-password" required {...PASSWORD_RULE} />
          </label>
          <Failure error={reset.error} />
          <button type="submit" disabled={reset.busy}>
            Set the new password
          </button>
          <p>
            <a href="/forgot-password">Ask for a new link</a>
          </p>
        </form>
      )}
    </Page>
  );
}

export function VerifyEmail() {
  const token = useLinkToken();
  const [state, setState] = useState<"working" | "done" | "invalid" | Error>(token ? "working" : "invalid");
  useEffect(() => {
    if (!token) return;
    api.verifyEmail(token).then(
      () => {
        setState("done");
        const me = currentUser.value as AccountUser | null;
        if (me) currentUser.value = { ...me, email_verified: true } as AccountUser;
      },
      // A used, expired or unknown token is the caller's problem, whatever 4xx says so.
      (e) => setState(e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429 ? "invalid" : e),
    );
  }, [token]);
  return (
    <Page title="Verify your email address">
      {state === "working" ? (
        <Loading what="Verifying" />
      ) : state === "done" ? (
        <p role="status" class="done">
          Thank you: your email address is verified. <a href="/">Go to the courses</a>.
        </p>
      ) : state === "invalid" ? (
        <p role="alert" class="failure">
          This link has been used, has expired or is not valid.
        </p>
      ) : (
        <Failure error={state} />
      )}
    </Page>
  );
}
