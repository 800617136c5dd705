// The checks the service makes of identity numbers and phone numbers
// (internal/casework/identity.go), in the browser, so that a mistyped
// number is caught while the form is being filled in. The service checks
// again and has the last word; its messages appear at the field too.

const residentIDWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const residentIDCheckChars = "10X98765432";

function isProvinceCode(n: number): boolean {
  return (n >= 11 && n <= 15) || (n >= 21 && n <= 23) || (n >= 31 && n <= 37) || (n >= 41 && n <= 46) ||
    (n >= 50 && n <= 54) || (n >= 61 && n <= 65) || n === 71 || n === 81 || n === 82;
}

/** checkResidentID checks a 居民身份证号码 (GB 11643); "" when valid, else what is wrong. */
export function checkResidentID(s: string, now = new Date()): string {
  const v = s.trim();
  if (v.length !== 18) return `应为 18 位（17 位数字加 1 位校验码），现为 ${v.length} 位`;
  if (!/^\d{17}$/.test(v.slice(0, 17))) return "前 17 位须为数字（注意使用半角字符）";
  const last = v[17]!.toUpperCase();
  if (!/[0-9X]/.test(last)) return "最后一位须为数字或 X";
  if (!isProvinceCode(Number(v.slice(0, 2)))) return "前两位不是省级行政区代码，号码可能输错了";
  const y = Number(v.slice(6, 10));
  const m = Number(v.slice(10, 12));
  const d = Number(v.slice(12, 14));
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) return "第 7 至 14 位的出生日期不是有效日期";
  if (y < 1900) return "出生日期早于 1900 年";
  if (birth.getTime() > Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())) return "出生日期在未来";
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(v[i]) * residentIDWeights[i]!;
  const want = residentIDCheckChars[sum % 11]!;
  if (last !== want) return `校验码应为 ${want}，不是 ${last}：号码可能输错了`;
  return "";
}

const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const usccWeights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** checkUSCC checks a 统一社会信用代码 (GB 32100); "" when valid. */
export function checkUSCC(s: string): string {
  const v = s.trim();
  if (v.length !== 18) return `应为 18 位，现为 ${v.length} 位`;
  let sum = 0;
  for (let i = 0; i < 18; i++) {
    const c = v[i]!;
    const idx = usccCharset.indexOf(c);
    if (idx < 0) {
      if (/[a-z]/.test(c)) return `第 ${i + 1} 位是小写字母，代码中的字母均为大写`;
      if ("IOSVZ".includes(c)) return `第 ${i + 1} 位是字母 ${c}，代码不使用 I、O、S、V、Z`;
      return `第 ${i + 1} 位“${c}”不是数字或大写字母`;
    }
    if (i < 17) sum += idx * usccWeights[i]!;
  }
  const want = usccCharset[(31 - (sum % 31)) % 31]!;
  if (v[17] !== want) return `校验码应为 ${want}，不是 ${v[17]}：代码可能输错了`;
  return "";
}

/** checkPhone checks a mainland mobile or landline number as the service does; "" when valid. */
export function checkPhone(s: string): string {
  let compact = s.replace(/\s/g, "");
  if (!compact) return "请填写手机号（如 13812345678）或带区号的固定电话（如 0934-8621234）";
  let international = false;
  if (compact.startsWith("+")) {
    if (!compact.startsWith("+86")) return "仅接受大陆号码：国家代码须为 +86";
    compact = compact.slice(1);
    international = true;
  }
  let digits = compact.replace(/-/g, "");
  if (!/^\d*$/.test(digits)) return "电话号码只能包含数字、空格和连字符（注意使用半角字符）";
  if (international || (digits.length === 13 && digits.startsWith("86"))) {
    digits = digits.slice(2);
    if (digits.startsWith("0")) return "+86 之后只接受手机号；固定电话请写区号，如 0934-8621234";
    return checkMobile(digits);
  }
  if (!digits) return "请填写电话号码";
  if (digits[0] === "1") return checkMobile(digits);
  if (digits[0] === "0") return checkLandline(compact);
  return "手机号以 1 开头，固定电话以区号（如 0934）开头";
}

function checkMobile(d: string): string {
  if (d.length !== 11) return `手机号应为 11 位，现为 ${d.length} 位`;
  if (d[0] !== "1" || d[1]! < "3") return `手机号以 13 至 19 开头，不是 ${d.slice(0, 2)}`;
  return "";
}

function checkLandline(s: string): string {
  const parts = s.split("-");
  if (parts.length > 3 || parts.includes("")) return "固定电话写作 区号-号码[-分机]，如 0934-8621234";
  const first = parts[0]!;
  if (first.length < 3) return `区号 ${first} 太短`;
  let areaLen = 4;
  if (first[1] === "0") return "仅接受大陆号码";
  if (first[1] === "1" || first[1] === "2") areaLen = 3;
  let area: string, local: string, ext = "";
  if (parts.length === 3) [area, local, ext] = parts as [string, string, string];
  else if (parts.length === 2 && first.length <= 4) [area, local] = parts as [string, string];
  else if (first.length < areaLen) return "固定电话需要区号和 7 至 8 位号码，如 0934-8621234";
  else {
    area = first.slice(0, areaLen);
    local = first.slice(areaLen);
    if (parts.length === 2) ext = parts[1]!;
  }
  if (area.length !== areaLen || (areaLen === 3 && area[1] === "1" && area !== "010")) return `区号 ${area} 不存在`;
  if (local.length < 7 || local.length > 8) return `区号之后的号码应为 7 或 8 位，现为 ${local.length} 位`;
  if (local[0]! < "2") return `区号之后的号码不能以 ${local[0]} 开头`;
  if (ext.length > 6) return "分机号最多 6 位";
  return "";
}
