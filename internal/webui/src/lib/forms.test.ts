import { describe, expect, it } from "vitest";
import { nextTick, reactive } from "vue";
import { clearErrorsOnChange } from "./forms";

describe("clearErrorsOnChange", () => {
  it("drops the error of a field the user changed and keeps the others", async () => {
    const form = reactive({ summary: "", tags: ["a"], online: false });
    const errors = reactive<Record<string, string>>({ summary: "必填", tags: "too many", online: "bad", _: "refused" });
    clearErrorsOnChange(form, errors);
    form.summary = "赡养费纠纷";
    await nextTick();
    expect(errors).toEqual({ tags: "too many", online: "bad", _: "refused" });
    form.tags.push("b");
    await nextTick();
    expect(errors).toEqual({ online: "bad", _: "refused" });
  });

  it("keeps an error set after the change, until the field changes again", async () => {
    const form = reactive({ place: "" });
    const errors = reactive<Record<string, string>>({});
    clearErrorsOnChange(form, errors);
    form.place = "x";
    await nextTick();
    errors.place = "required unless online";
    await nextTick();
    expect(errors.place).toBe("required unless online");
    form.place = "y";
    await nextTick();
    expect(errors.place).toBeUndefined();
  });
});
