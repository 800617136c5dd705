// Whether the screen is phone-sized, following the window as it changes.
import { onBeforeUnmount, ref, type Ref } from "vue";

/** usePhone is true below 640 CSS pixels of width. */
export function usePhone(): Ref<boolean> {
  const mq = window.matchMedia("(max-width: 640px)");
  const phone = ref(mq.matches);
  const on = (e: MediaQueryListEvent) => (phone.value = e.matches);
  mq.addEventListener("change", on);
  onBeforeUnmount(() => mq.removeEventListener("change", on));
  return phone;
}
