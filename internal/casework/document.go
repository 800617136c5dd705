package casework

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AgreementDocument is what the 调解协议书 shows: the contents that
// 人民调解法 第二十九条 lists, and the signatures and seal that make the
// agreement take effect. RenderAgreement prints the values as given, so
// callers mask identity and phone numbers (MaskIDNumber, MaskPhone) in
// copies for readers who must not see them whole.
type AgreementDocument struct {
	Number           string               // the case number, e.g. 西峰调〔2026〕00123号, shown as 编号
	Committee        string               // the organization's name, e.g. 西峰区巾帼调解工作室 (the 人民调解委员会 that seals it)
	Parties          []DocumentParty      // in the order they are listed and sign
	Facts            string               // 纠纷主要事实、争议事项; one paragraph a line
	Responsibilities string               // 各方当事人的责任 (may be empty); one paragraph a line
	Terms            string               // 经调解，自愿达成如下协议: free text, one paragraph or numbered term a line
	Obligations      []DocumentObligation // structured terms, listed after the free text
	Performance      string               // 履行方式、时限
	Copies           int                  // 本协议一式_份; 0 means one for each party other than agents, and one for the committee
	Mediator         string               // 人民调解员 name
	Recorder         string               // 记录人 name (may be empty)
	SignDate         time.Time            // the date printed at the end, formatted 2026年3月1日; zero leaves it to be written by hand
	Oral             bool                 // an oral agreement (口头协议, 第28条): print the 口头调解协议登记 variant
}

// DocumentParty is one party's block of an agreement.
type DocumentParty struct {
	Role           string // 申请人 / 被申请人 / 第三人 / 委托代理人; empty prints 当事人
	Name           string // a person's name or a legal person's 名称
	Gender         string // 男 / 女 / ""
	Ethnicity      string // 民族, e.g. 汉族
	Age            int    // 0 = unknown
	Occupation     string // 职业或职务; for a legal person, its representative's 职务
	Contact        string // 联系方式 (phone)
	Address        string // 单位或住址; for a legal person, its 住所
	IDNumber       string // 居民身份证号码, or a legal person's 统一社会信用代码
	LegalEntity    bool   // a legal person: show 法定代表人 and 住所 instead of gender and age
	Representative string // 法定代表人 (legal entities) or the party an agent represents (委托人)
}

// DocumentObligation is one structured term: who does what for whom, by
// when. It prints as a sentence such as
// 王建国于2026年12月31日前向王秀英支付人民币5000.00元（赡养费）。
type DocumentObligation struct {
	Obligor, Obligee string    // party names; Obligee may be empty
	Description      string    // with an Amount, what the money is for (赡养费); without, what the obligor does (返还承包地经营权证)
	Amount           string    // yuan, e.g. "5000.00"; "" when none, rendered as 人民币5000.00元
	DueDate          time.Time // zero = none; rendered as 于2026年12月31日前
}

// agentRole is the role of a party's agent, who does not keep a copy of
// the agreement.
const agentRole = "委托代理人"

// yuanPattern is an amount in yuan: digits with at most two decimals.
var yuanPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)

// agreementView is the data of agreementTemplate, prepared so the
// template only prints.
type agreementView struct {
	Title            string
	Number           string
	Committee        string
	Parties          []partyView
	Facts            []string
	Responsibilities []string
	Terms            []string
	Obligations      []string
	Performance      []string
	Copies           int
	Oral             bool
	Mediator         string
	Recorder         string
	SignDate         string
}

// partyView is a party as the template prints it.
type partyView struct {
	DocumentParty
	Role string
	Age  string
	Who  string // the party beside its signature line, e.g. 第三人 庆阳市某某有限公司
}

// RenderAgreement renders an agreement as one self-contained HTML page
// for printing on A4: no external resources and no scripts, so that it
// prints the same offline and can be archived in the case file as it is.
// All data is escaped. The input is checked first; a problem is reported
// as a *FieldError naming the AgreementDocument field.
func RenderAgreement(d AgreementDocument) ([]byte, error) {
	if err := validateAgreement(d); err != nil {
		return nil, err
	}
	v := agreementView{
		Title:            "人民调解协议书",
		Number:           strings.TrimSpace(d.Number),
		Committee:        strings.TrimSpace(d.Committee),
		Facts:            paragraphs(d.Facts),
		Responsibilities: paragraphs(d.Responsibilities),
		Terms:            paragraphs(d.Terms),
		Performance:      paragraphs(d.Performance),
		Copies:           d.Copies,
		Oral:             d.Oral,
		Mediator:         strings.TrimSpace(d.Mediator),
		Recorder:         strings.TrimSpace(d.Recorder),
		SignDate:         chineseDate(d.SignDate),
	}
	if d.Oral {
		v.Title = "口头调解协议登记"
	}
	for _, p := range d.Parties {
		v.Parties = append(v.Parties, newPartyView(p))
	}
	if v.Copies == 0 {
		v.Copies = 1
		for _, p := range v.Parties {
			if p.Role != agentRole {
				v.Copies++
			}
		}
	}
	for _, o := range d.Obligations {
		v.Obligations = append(v.Obligations, obligationSentence(o))
	}
	var b bytes.Buffer
	if err := agreementTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("render agreement %s: %w", v.Number, err)
	}
	return b.Bytes(), nil
}

// validateAgreement checks what an agreement must hold to be printed.
func validateAgreement(d AgreementDocument) error {
	switch {
	case isBlank(d.Number):
		return &FieldError{Field: "number", Message: "required: the case number printed as 编号, e.g. 西峰调〔2026〕00123号"}
	case isBlank(d.Committee):
		return &FieldError{Field: "committee", Message: "required: the name of the committee that seals the agreement"}
	case len(d.Parties) == 0:
		return &FieldError{Field: "parties", Message: "required: at least one party"}
	case !d.Oral && isBlank(d.Facts):
		return &FieldError{Field: "facts", Message: "required: the main facts and issues of the dispute (纠纷主要事实、争议事项), which a written agreement must state"}
	case isBlank(d.Terms) && len(d.Obligations) == 0:
		return &FieldError{Field: "terms", Message: "required: what the parties agreed, as terms or obligations"}
	case d.Copies < 0:
		return &FieldError{Field: "copies", Message: fmt.Sprintf("must be at least 1, or 0 for one copy per party and one for the committee; got %d", d.Copies)}
	}
	for i, p := range d.Parties {
		if isBlank(p.Name) {
			return &FieldError{Field: fmt.Sprintf("parties[%d].name", i), Message: "required: the party's full name, or a legal person's registered name"}
		}
		if p.Age < 0 {
			return &FieldError{Field: fmt.Sprintf("parties[%d].age", i), Message: fmt.Sprintf("must be positive, or 0 when unknown; got %d", p.Age)}
		}
	}
	for i, o := range d.Obligations {
		switch {
		case isBlank(o.Obligor):
			return &FieldError{Field: fmt.Sprintf("obligations[%d].obligor", i), Message: "required: the party who must perform"}
		case isBlank(o.Description) && o.Amount == "":
			return &FieldError{Field: fmt.Sprintf("obligations[%d].description", i), Message: "required: what the obligor must do, or an amount to pay"}
		case o.Amount != "" && !yuanPattern.MatchString(o.Amount):
			return &FieldError{Field: fmt.Sprintf("obligations[%d].amount", i), Message: fmt.Sprintf("must be an amount in yuan such as 5000 or 5000.00, got %q", o.Amount)}
		}
	}
	return nil
}

// newPartyView prepares a party for the template.
func newPartyView(p DocumentParty) partyView {
	v := partyView{DocumentParty: p, Role: strings.TrimSpace(p.Role)}
	if v.Role == "" {
		v.Role = "当事人"
	}
	if p.Age > 0 {
		v.Age = strconv.Itoa(p.Age)
	}
	v.Who = v.Role + " " + strings.TrimSpace(p.Name)
	if p.LegalEntity && !isBlank(p.Representative) {
		v.Who += "（法定代表人 " + strings.TrimSpace(p.Representative) + "）"
	}
	return v
}

// obligationSentence writes an obligation as the sentence of a term.
func obligationSentence(o DocumentObligation) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(o.Obligor))
	if !o.DueDate.IsZero() {
		b.WriteString("于" + chineseDate(o.DueDate) + "前")
	}
	if !isBlank(o.Obligee) {
		b.WriteString("向" + strings.TrimSpace(o.Obligee))
	}
	desc := strings.TrimRight(strings.TrimSpace(o.Description), "。.；;")
	if o.Amount != "" {
		b.WriteString("支付人民币" + o.Amount + "元")
		if desc != "" {
			b.WriteString("（" + desc + "）")
		}
	} else {
		b.WriteString(desc)
	}
	b.WriteString("。")
	return b.String()
}

// chineseDate formats a date as 2026年3月1日, in the time's own location;
// the zero time gives blanks to be filled in by hand.
func chineseDate(t time.Time) string {
	if t.IsZero() {
		return "　　　　年　　月　　日"
	}
	y, m, d := t.Date()
	return fmt.Sprintf("%d年%d月%d日", y, m, d)
}

// paragraphs splits free text into its non-blank lines.
func paragraphs(s string) []string {
	var ps []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			ps = append(ps, line)
		}
	}
	return ps
}

// agreementTemplate is the page. It is written as well-formed XML as well
// as HTML, so that any XML tool can check it, and keeps every style in the
// page so that it needs nothing else to print. The closing statements stay
// on the page of the signatures, so that no page holds signatures alone,
// and every page is numbered "第 n 页，共 m 页", so that a page missing or
// swapped in shows.
var agreementTemplate = template.Must(template.New("agreement").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8" />
<title>{{.Title}} {{.Number}}</title>
<style>
@page {
  size: A4;
  margin: 25mm 20mm;
  @bottom-center {
    content: "第 " counter(page) " 页，共 " counter(pages) " 页";
    font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", serif;
    font-size: 9pt;
  }
}
html {
  font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", serif;
  font-size: 12pt;
  line-height: 1.75;
  color: #000;
  background: #fff;
}
body { margin: 0; }
@media screen {
  body { width: 170mm; margin: 25mm auto; }
}
h1 {
  margin: 0 0 2mm;
  font-size: 22pt;
  font-weight: bold;
  letter-spacing: 0.25em;
  text-align: center;
}
.number { margin: 0 0 4mm; text-align: right; }
h2 {
  margin: 4mm 0 1mm;
  font-size: 12pt;
  font-weight: bold;
  break-after: avoid;
  page-break-after: avoid;
}
p { margin: 0; orphans: 2; widows: 2; }
.text p, .terms p { text-indent: 2em; text-align: justify; }
.party {
  margin: 0 0 3mm;
  break-inside: avoid;
  page-break-inside: avoid;
}
.party table {
  width: 100%;
  border-collapse: collapse;
  table-layout: fixed;
  break-inside: avoid;
  page-break-inside: avoid;
}
.party th, .party td {
  border: 0.75pt solid #000;
  padding: 1mm 1.5mm;
  vertical-align: middle;
  overflow-wrap: anywhere;
}
.party th { font-weight: normal; text-align: center; }
.party th.role { font-weight: bold; }
.c7 { width: 7%; }
.c8 { width: 8%; }
.c10 { width: 10%; }
.c12 { width: 12%; }
.c15 { width: 15%; }
.c16 { width: 16%; }
.party td { text-align: left; }
.statement { margin: 3mm 0 0; text-indent: 2em; }
.signatures {
  break-inside: avoid;
  page-break-inside: avoid;
}
.signatures table { width: 100%; margin: 6mm 0 0; border-collapse: collapse; }
.signatures th, .signatures td {
  height: 12mm;
  padding: 0 0 1mm;
  vertical-align: bottom;
  font-weight: normal;
  text-align: left;
}
.signatures th { width: 1%; white-space: nowrap; }
.signatures td.line { width: 45mm; border-bottom: 0.75pt solid #000; }
.signatures td.who { padding-left: 3mm; font-size: 10.5pt; line-height: 1.4; }
.seal {
  margin: 10mm 0 0 auto;
  width: 75mm;
  text-align: center;
  line-height: 2;
}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="number">编号：{{.Number}}</p>
{{range .Parties}}<div class="party">
<table>
<colgroup><col class="c12" /><col class="c16" /><col class="c16" /><col class="c8" /><col class="c7" /><col class="c8" /><col class="c10" /><col class="c8" /><col class="c15" /></colgroup>
{{if .LegalEntity}}<tr><th class="role" rowspan="{{if .IDNumber}}4{{else}}3{{end}}">{{.Role}}</th><th>名称</th><td colspan="7">{{.Name}}</td></tr>
<tr><th>法定代表人</th><td colspan="3">{{.Representative}}{{if .Occupation}}（{{.Occupation}}）{{end}}</td><th colspan="2">联系方式</th><td colspan="2">{{.Contact}}</td></tr>
{{if .IDNumber}}<tr><th>统一社会信用代码</th><td colspan="7">{{.IDNumber}}</td></tr>
{{end}}<tr><th>住所</th><td colspan="7">{{.Address}}</td></tr>
{{else}}<tr><th class="role" rowspan="{{if and .Representative .IDNumber}}5{{else if or .Representative .IDNumber}}4{{else}}3{{end}}">{{.Role}}</th><th>姓名</th><td>{{.Name}}</td><th>性别</th><td>{{.Gender}}</td><th>民族</th><td>{{.Ethnicity}}</td><th>年龄</th><td>{{.Age}}</td></tr>
<tr><th>职业或职务</th><td colspan="3">{{.Occupation}}</td><th colspan="2">联系方式</th><td colspan="2">{{.Contact}}</td></tr>
{{if .IDNumber}}<tr><th>身份证号码</th><td colspan="7">{{.IDNumber}}</td></tr>
{{end}}<tr><th>单位或住址</th><td colspan="7">{{.Address}}</td></tr>
{{if .Representative}}<tr><th>委托人</th><td colspan="7">{{.Representative}}</td></tr>
{{end}}{{end}}</table>
</div>
{{end}}<h2>纠纷主要事实、争议事项：</h2>
<div class="text">{{range .Facts}}<p>{{.}}</p>{{end}}</div>
{{if .Responsibilities}}<h2>各方当事人的责任：</h2>
<div class="text">{{range .Responsibilities}}<p>{{.}}</p>{{end}}</div>
{{end}}<h2>经调解，自愿达成如下协议：</h2>
<div class="terms">{{range .Terms}}<p>{{.}}</p>{{end}}{{range .Obligations}}<p>{{.}}</p>{{end}}</div>
<h2>履行方式、时限：</h2>
<div class="text">{{range .Performance}}<p>{{.}}</p>{{end}}</div>
<div class="signatures">
{{if .Oral}}<p class="statement">口头调解协议自各方当事人达成协议之日起生效。</p>
{{else}}<p class="statement">本协议一式{{.Copies}}份，当事人、人民调解委员会各持一份。</p>
<p class="statement">调解协议书自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。</p>
{{end}}<table>
{{range .Parties}}<tr><th>当事人（签名盖章或按指印）：</th><td class="line"></td><td class="who">{{.Who}}</td></tr>
{{end}}<tr><th>人民调解员（签名）：</th><td class="line"></td><td class="who">{{.Mediator}}</td></tr>
<tr><th>记录人（签名）：</th><td class="line"></td><td class="who">{{.Recorder}}</td></tr>
</table>
<div class="seal">
<p>{{.Committee}}</p>
<p>人民调解委员会（印）</p>
<p>{{.SignDate}}</p>
</div>
</div>
</body>
</html>
`))
