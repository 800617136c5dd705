// Forms: an error shown at a field goes away once the user changes that
// field, instead of staying until the next submit.
import { watch } from "vue";

function snapshot(form: object): Record<string, string> {
  return Object.fromEntries(Object.entries(form).map(([k, v]) => [k, JSON.stringify(v) ?? ""]));
}

/**
 * clearErrorsOnChange removes errors[k] when form[k] changes (form is a
 * reactive object; errors is keyed by its field names). Call it in a
 * component's setup, so that the watch ends with the component.
 */
export function clearErrorsOnChange(form: object, errors: Record<string, unknown>): void {
  let last = snapshot(form);
  watch(() => snapshot(form), (now) => {
    for (const k of Object.keys(now)) if (now[k] !== last[k]) delete errors[k];
    last = now;
  });
}
