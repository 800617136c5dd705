import { describe, expect, it } from "vitest";
import { downloadName } from "./download";

describe("downloadName", () => {
  it("prefers the UTF-8 name", () => {
    expect(downloadName(`attachment; filename="case-statistics-20261206-1430.csv"; filename*=UTF-8''%E6%A1%88%E4%BB%B6%E7%BB%9F%E8%AE%A1-20261206-1430.csv`))
      .toBe("案件统计-20261206-1430.csv");
  });
  it("takes the plain name when there is no other", () => {
    expect(downloadName(`attachment; filename="stats.csv"`)).toBe("stats.csv");
    expect(downloadName(`attachment; filename=stats.csv`)).toBe("stats.csv");
  });
  it("falls back to the plain name when the UTF-8 one is malformed, and is empty without a header", () => {
    expect(downloadName(`attachment; filename="a.csv"; filename*=UTF-8''%E6%A1`)).toBe("a.csv");
    expect(downloadName(null)).toBe("");
  });
});
