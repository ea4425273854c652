// Create or edit a credential (Reactor secret). Fields follow type_of; hidden fields are
// write-only: never prefilled, placeholder "unchanged" when editing, and the server needs them
// again whenever the credentials change, so the form asks for them rather than sending without.
// A live readout says what refresh_offset means ("4 h 0 min"); lifetime rules and the server's
// 422 errors appear beside the field they concern (by source.pointer).
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, reactorId, request } from "../api.js";
import { errorText, LoadState } from "../components/feedback.js";
import {
  DEFAULT_REFRESH_OFFSET,
  durationWords,
  FORM_FIELDS,
  FORM_TYPES,
  type FormType,
  formTypeOf,
  lifetimeProblems,
  textOf,
  wireValue,
} from "../credential-form-data.js";
import { loadCredentials } from "../credentials-data.js";
import { navigate } from "../router.js";

interface LoadedSecret {
  id: string;
  attributes: { name: string; type_of: string; credentials?: Record<string, unknown> };
  relationships?: { environment?: { data: { id: string } | null } };
}

const CREDENTIALS_POINTER = "/data/attributes/credentials";

/** Server errors by form key: "name", a credential field, or "form" for the rest. */
function inlineErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return { form: "Saving failed" };
  const body = error.body as { errors?: { detail?: string; source?: { pointer?: string } }[] } | null;
  const found: Record<string, string> = {};
  for (const entry of body?.errors ?? []) {
    const pointer = entry.source?.pointer ?? "";
    const detail = entry.detail ?? error.message;
    let key = "form";
    if (pointer === "/data/attributes/name") key = "name";
    else if (pointer.startsWith(`${CREDENTIALS_POINTER}/`)) key = pointer.slice(CREDENTIALS_POINTER.length + 1);
    if (pointer.endsWith("/authorization_url")) key = "token_url";
    found[key] = found[key] === undefined ? detail : `${found[key]}; ${detail}`;
  }
  if (Object.keys(found).length === 0) found.form = error.message;
  return found;
}

export function CredentialFormScreen(props: { projectId: string; secretId?: string }) {
  const editing = props.secretId !== undefined;
  const [name, setName] = useState("");
  const [typeOf, setTypeOf] = useState<string>("oauth2");
  const [environment, setEnvironment] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [dirty, setDirty] = useState(false);
  const [environments, setEnvironments] = useState(new Map<string, string>());
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [loading, setLoading] = useState(true);
  const [saving, setSaving] = useState(false);
  // An oauth2-google credential waits for Google's consent: the save answers the consent URL once
  // (it is not shown again; Reauthorize makes a new one), so the form shows it instead of leaving.
  const [consentUrl, setConsentUrl] = useState<string | null>(null);

  const type: FormType = formTypeOf(typeOf);
  const fields = FORM_FIELDS[type];

  useEffect(() => {
    document.title = `${editing ? "Edit" : "New"} credential · Latch`;
    let live = true;
    (async () => {
      try {
        const loaded = await loadCredentials(props.projectId);
        if (!live) return;
        setEnvironments(loaded.environments);
        if (props.secretId !== undefined) {
          const secret = (await get<{ data: LoadedSecret }>(`/reactor/secrets/${props.secretId}`)).data;
          if (!live) return;
          setName(secret.attributes.name);
          setTypeOf(secret.attributes.type_of);
          setEnvironment(secret.relationships?.environment?.data?.id ?? "");
          const shown: Record<string, string> = {};
          for (const field of FORM_FIELDS[formTypeOf(secret.attributes.type_of)]) {
            // Hidden fields are write-only: never prefilled, whatever the server sent.
            if (!field.hidden) shown[field.name] = textOf(field, secret.attributes.credentials?.[field.name]);
          }
          setValues(shown);
        }
        setLoading(false);
      } catch (caught) {
        if (live) setErrors({ form: errorText(caught, "Loading failed") });
      }
    })();
    return () => {
      live = false;
    };
  }, [props.projectId, props.secretId]);

  const setValue = (field: string, value: string) => {
    setValues((current) => ({ ...current, [field]: value }));
    setDirty(true);
  };

  const lifetime = lifetimeProblems(type, values);
  const defaultOffset = DEFAULT_REFRESH_OFFSET[type];
  const offsetText = (values.refresh_offset ?? "").trim();
  const readout =
    defaultOffset === undefined
      ? null
      : offsetText === ""
        ? `Refreshes ${durationWords(defaultOffset)} before expiry (server default)`
        : /^\d+$/.test(offsetText)
          ? `Refreshes ${durationWords(Number(offsetText))} before expiry`
          : "Not a number of seconds";

  async function save(event: Event) {
    event.preventDefault();
    const found: Record<string, string> = { ...lifetime };
    const sendCredentials = !editing || dirty;
    const credentials: Record<string, unknown> = {};
    if (sendCredentials) {
      for (const field of fields) {
        const text = values[field.name] ?? "";
        if (text.trim() === "") {
          if (editing && field.hidden && field.required) {
            found[field.name] = `Retype ${field.name}: the server needs it again when the credentials change`;
          }
          continue;
        }
        try {
          credentials[field.name] = wireValue(field, text);
        } catch (caught) {
          found[field.name] = errorText(caught, "Unreadable");
        }
      }
    }
    if (Object.keys(found).length > 0) {
      setErrors(found);
      return;
    }
    setErrors({});
    setSaving(true);
    try {
      const attributes: Record<string, unknown> = { name, type_of: typeOf };
      if (sendCredentials) attributes.credentials = credentials;
      let saved: { data: { meta?: { authorization_url?: unknown } } };
      if (props.secretId !== undefined) {
        saved = await request("PATCH", `/reactor/secrets/${props.secretId}`, { data: { id: props.secretId, type: "secrets", attributes } });
      } else {
        const relationships =
          environment === "" ? {} : { relationships: { environment: { data: { id: environment, type: "environments" } } } };
        saved = await request("POST", `/reactor/properties/${reactorId("PR", props.projectId)}/secrets`, {
          data: { type: "secrets", attributes, ...relationships },
        });
      }
      const url = saved.data.meta?.authorization_url;
      if (typeof url === "string") setConsentUrl(url);
      else navigate(`/projects/${props.projectId}/credentials`);
    } catch (caught) {
      setErrors(inlineErrors(caught));
    } finally {
      setSaving(false);
    }
  }

  const describedBy = (key: string, extra?: string) =>
    [errors[key] !== undefined || lifetime[key] !== undefined ? `error-${key}` : "", extra ?? ""].filter((id) => id !== "").join(" ") ||
    undefined;
  const fieldError = (key: string) => {
    const message = errors[key] ?? lifetime[key];
    return message === undefined ? null : (
      <p class="error" id={`error-${key}`} data-error-for={key}>
        {message}
      </p>
    );
  };

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href="/ui/">Projects</a> · <a href={`/ui/projects/${props.projectId}/credentials`}>Credentials</a>
      </p>
      <h1>{editing ? "Edit credential" : "New credential"}</h1>
      <LoadState error={errors.form} loading={loading} />
      {consentUrl !== null && (
        <section aria-labelledby="consent-heading" data-consent="">
          <h2 id="consent-heading">Google needs your consent</h2>
          <p role="status">
            {name} is saved and stays Pending until you allow access on Google's page. This link is shown once; Reauthorize in the
            credentials list makes a new one.
          </p>
          <p>
            <a href={consentUrl} target="_blank" rel="noopener noreferrer" data-primary="">
              Open Google's consent page
            </a>{" "}
            · <a href={`/ui/projects/${props.projectId}/credentials`}>Back to credentials</a>
          </p>
        </section>
      )}
      {!loading && consentUrl === null && (
        <form onSubmit={save} noValidate>
          <p>
            <label for="credential-name">Name</label>
            <input
              id="credential-name"
              value={name}
              aria-describedby={describedBy("name")}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </p>
          {fieldError("name")}
          <p>
            <label for="credential-type">Type</label>
            <select
              id="credential-type"
              value={type}
              disabled={editing}
              onChange={(e) => {
                setTypeOf(e.currentTarget.value);
                setValues({});
                setDirty(true);
              }}
            >
              {FORM_TYPES.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </p>
          {!editing && (
            <p>
              <label for="credential-environment">Environment</label>
              <select id="credential-environment" value={environment} onChange={(e) => setEnvironment(e.currentTarget.value)}>
                <option value="">No environment</option>
                {[...environments].map(([id, label]) => (
                  <option key={id} value={id}>
                    {label}
                  </option>
                ))}
              </select>
            </p>
          )}
          <fieldset>
            <legend>Credentials ({type})</legend>
            {fields.map((field) => {
              const id = `field-${field.name}`;
              const readoutId = field.name === "refresh_offset" && readout !== null ? "refresh-readout" : undefined;
              const common = {
                id,
                name: field.name,
                value: values[field.name] ?? "",
                "aria-describedby": describedBy(field.name, readoutId),
                onInput: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => setValue(field.name, e.currentTarget.value),
              };
              return (
                <div key={field.name} class="field">
                  <label for={id}>
                    {field.name}
                    {field.required ? "" : " (optional)"}
                    {field.kind === "integer" ? " in seconds" : ""}
                  </label>
                  {field.hidden && field.name === "private_key" ? (
                    <textarea {...common} autocomplete="off" spellcheck={false} placeholder={editing ? "unchanged" : undefined} />
                  ) : field.hidden ? (
                    <input {...common} type="password" autocomplete="new-password" placeholder={editing ? "unchanged" : undefined} />
                  ) : field.kind === "object" ? (
                    <textarea {...common} spellcheck={false} placeholder="{}" />
                  ) : (
                    <input {...common} inputMode={field.kind === "integer" ? "numeric" : undefined} />
                  )}
                  {readoutId !== undefined && (
                    <p id={readoutId} aria-live="polite" data-readout="">
                      {readout}
                    </p>
                  )}
                  {fieldError(field.name)}
                </div>
              );
            })}
          </fieldset>
          <p>
            <button type="submit" data-primary="" disabled={saving}>
              {editing ? "Save changes" : "Create credential"}
            </button>
          </p>
        </form>
      )}
    </main>
  );
}
