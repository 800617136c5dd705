package casework_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

// cst is China Standard Time, the zone the dates of documents are in.
var cst = time.FixedZone("CST", 8*3600)

// demoAgreement is a 赡养 (support of a parent) agreement of Xifeng
// district: a mother, her son, and the care home she lives in as a third
// party. Every name and number in it is made up.
func demoAgreement(t testing.TB) casework.AgreementDocument {
	return casework.AgreementDocument{
		Number:    "西峰调〔2026〕00123号",
		Committee: "西峰区巾帼调解工作室",
		Parties: []casework.DocumentParty{
			{
				Role: "申请人", Name: "王秀英", Gender: "女", Ethnicity: "汉族", Age: 77,
				Occupation: "农民", Contact: "13993456781",
				Address:  "甘肃省庆阳市西峰区肖金镇杨庄村三组",
				IDNumber: withCheckDigit(t, "62100219480315002"),
			},
			{
				Role: "被申请人", Name: "王建国", Gender: "男", Ethnicity: "汉族", Age: 51,
				Occupation: "个体工商户", Contact: "13830456172",
				Address:  "甘肃省庆阳市西峰区安定西路18号",
				IDNumber: withCheckDigit(t, "62100219740612003"),
			},
			{
				Role: "第三人", Name: "庆阳市西峰区康宁养老服务有限公司", LegalEntity: true,
				Representative: "李建华", Occupation: "总经理", Contact: "0934-8621234",
				Address:  "甘肃省庆阳市西峰区兰州西路66号",
				IDNumber: withUSCCCheck(t, "91621002MA7KQ8R2X"),
			},
		},
		Facts: "申请人王秀英现年77岁，丧偶，系被申请人王建国之母，患有高血压、腰椎病，生活不能完全自理，无固定收入。\n" +
			"2025年以来，王建国以经营困难为由未按约定支付赡养费，累计拖欠5000元。王秀英自2025年10月起入住第三人开办的康宁颐养院，2025年10月至12月的养老服务费7800元至今未付。双方对赡养费的数额、支付方式及养老服务费由谁负担发生争议。",
		Responsibilities: "被申请人王建国系王秀英之子，依法负有赡养扶助义务，未按约定支付赡养费，应承担主要责任。第三人已按约定提供养老服务，不承担责任。",
		Terms: "一、自2026年3月起，王秀英继续入住康宁颐养院，由王建国履行赡养义务，于每月10日前向王秀英支付赡养费800元。\n" +
			"二、王建国每月至少探望王秀英一次；王秀英患病住院期间，由王建国负责陪护或者委托护理。\n" +
			"三、王建国按下列期限支付欠付款项：",
		Obligations: []casework.DocumentObligation{
			{Obligor: "王建国", Obligee: "王秀英", Amount: "5000.00", Description: "赡养费", DueDate: time.Date(2026, 12, 31, 0, 0, 0, 0, cst)},
			{Obligor: "王建国", Obligee: "庆阳市西峰区康宁养老服务有限公司", Amount: "7800.00", Description: "王秀英2025年10月至12月的养老服务费", DueDate: time.Date(2026, 3, 31, 0, 0, 0, 0, cst)},
		},
		Performance: "上述款项以银行转账方式支付至收款方指定的账户，王建国保存转账凭证备查。各方当事人同意自本协议生效之日起三十日内共同向庆阳市西峰区人民法院申请司法确认。",
		Mediator:    "张慧敏",
		Recorder:    "李娜",
		SignDate:    time.Date(2026, 3, 1, 10, 30, 0, 0, cst),
	}
}

func render(t *testing.T, d casework.AgreementDocument) string {
	t.Helper()
	out, err := casework.RenderAgreement(d)
	if err != nil {
		t.Fatalf("RenderAgreement: %v", err)
	}
	checkWellFormed(t, out)
	return string(out)
}

// checkWellFormed parses the page as XML, which the template keeps it to:
// a strict XML parser rejects unbalanced, misnested or unclosed elements
// and stray '<' and '&', which is what a broken template produces.
func checkWellFormed(t *testing.T, page []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the page is not well formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Local != "html" {
					t.Errorf("root element is <%s>, want <html>", tok.Name.Local)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 {
		t.Errorf("the page has %d root elements, want 1", roots)
	}
}

func TestRenderAgreementContents(t *testing.T) {
	page := render(t, demoAgreement(t))
	want := []string{
		// the page
		`<html lang="zh-CN">`,
		`<meta charset="utf-8" />`,
		"@page {\n  size: A4;\n  margin: 25mm 20mm;",
		`"SimSun", "Songti SC", "Noto Serif CJK SC"`,
		"break-inside: avoid",
		"<title>人民调解协议书 西峰调〔2026〕00123号</title>",
		// title and number
		"<h1>人民调解协议书</h1>",
		"编号：西峰调〔2026〕00123号",
		// the parties
		"<th>姓名</th><td>王秀英</td><th>性别</th><td>女</td>",
		"<th>民族</th><td>汉族</td><th>年龄</th><td>77</td>",
		"<th>职业或职务</th><td colspan=\"3\">农民</td><th colspan=\"2\">联系方式</th><td colspan=\"2\">13993456781</td>",
		"<th>单位或住址</th><td colspan=\"7\">甘肃省庆阳市西峰区肖金镇杨庄村三组</td>",
		"<th>身份证号码</th><td colspan=\"7\">" + withCheckDigit(t, "62100219480315002") + "</td>",
		">申请人</th>",
		">被申请人</th>",
		"<th>姓名</th><td>王建国</td><th>性别</th><td>男</td>",
		"个体工商户",
		">第三人</th><th>名称</th><td colspan=\"7\">庆阳市西峰区康宁养老服务有限公司</td>",
		"<th>法定代表人</th><td colspan=\"3\">李建华（总经理）</td>",
		"<td colspan=\"2\">0934-8621234</td>",
		"<th>统一社会信用代码</th><td colspan=\"7\">" + withUSCCCheck(t, "91621002MA7KQ8R2X") + "</td>",
		"<th>住所</th><td colspan=\"7\">甘肃省庆阳市西峰区兰州西路66号</td>",
		// the facts, responsibilities and terms
		"<h2>纠纷主要事实、争议事项：</h2>",
		"<p>申请人王秀英现年77岁，",
		"<p>2025年以来，王建国以经营困难为由",
		"<h2>各方当事人的责任：</h2>",
		"应承担主要责任。",
		"<h2>经调解，自愿达成如下协议：</h2>",
		"<p>一、自2026年3月起，",
		"<p>三、王建国按下列期限支付欠付款项：</p>",
		"<p>王建国于2026年12月31日前向王秀英支付人民币5000.00元（赡养费）。</p>",
		"<p>王建国于2026年3月31日前向庆阳市西峰区康宁养老服务有限公司支付人民币7800.00元（王秀英2025年10月至12月的养老服务费）。</p>",
		"<h2>履行方式、时限：</h2>",
		"以银行转账方式支付",
		// copies, effect, signatures, seal and date
		"本协议一式4份，当事人、人民调解委员会各持一份。",
		"调解协议书自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。",
		"<th>当事人（签名盖章或按指印）：</th><td class=\"line\"></td><td class=\"who\">申请人 王秀英</td>",
		"<td class=\"who\">被申请人 王建国</td>",
		"<td class=\"who\">第三人 庆阳市西峰区康宁养老服务有限公司（法定代表人 李建华）</td>",
		"<th>人民调解员（签名）：</th><td class=\"line\"></td><td class=\"who\">张慧敏</td>",
		"<th>记录人（签名）：</th><td class=\"line\"></td><td class=\"who\">李娜</td>",
		"<p>西峰区巾帼调解工作室</p>\n<p>人民调解委员会（印）</p>\n<p>2026年3月1日</p>",
	}
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if n := strings.Count(page, "当事人（签名盖章或按指印）"); n != 3 {
		t.Errorf("%d party signature lines, want 3", n)
	}
	// The order of the sections is the order of the form.
	order := []string{"编号：", ">申请人</th>", ">被申请人</th>", ">第三人</th>", "纠纷主要事实、争议事项", "各方当事人的责任",
		"经调解，自愿达成如下协议", "一、自2026年3月起", "向王秀英支付人民币5000.00元", "履行方式、时限", "本协议一式",
		"之日起生效", "当事人（签名盖章或按指印）", "人民调解员（签名）", "记录人（签名）", "人民调解委员会（印）", "2026年3月1日</p>"}
	last := -1
	for _, s := range order {
		i := strings.Index(page, s)
		if i < last {
			t.Errorf("%q comes before what precedes it on the form", s)
		}
		last = i
	}
	if strings.Contains(page, "口头") {
		t.Error("a written agreement mentions 口头")
	}
}

func TestRenderAgreementGolden(t *testing.T) {
	out, err := casework.RenderAgreement(demoAgreement(t))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "agreement.golden.html")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("the page differs from %s; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff", golden)
	}
}

func TestRenderAgreementEscapes(t *testing.T) {
	d := demoAgreement(t)
	d.Number = `西峰调〔2026〕"1"号`
	d.Parties[0].Name = "<script>alert(1)</script>"
	d.Parties[1].Address = `安定西路18号 & "北院"`
	d.Facts = "</p><img src=x onerror=alert(1)>"
	d.Obligations[0].Description = "<b>赡养费</b>"
	page := render(t, d)
	for _, bad := range []string{"<script", "<img", "<b>", `"北院"`, `"1"号`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q unescaped", bad)
		}
	}
	for _, w := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"安定西路18号 &amp; &#34;北院&#34;",
		"&lt;/p&gt;&lt;img src=x onerror=alert(1)&gt;",
		"（&lt;b&gt;赡养费&lt;/b&gt;）",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks the escaped %q", w)
		}
	}
}

func TestRenderAgreementSelfContained(t *testing.T) {
	page := strings.ToLower(render(t, demoAgreement(t)))
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "http:", "https:", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: it must need no other resource and run no code", bad)
		}
	}
	if m := regexp.MustCompile(`\son[a-z]+\s*=`).FindString(page); m != "" {
		t.Errorf("the page has an event handler attribute %q", m)
	}
}

func TestRenderAgreementCopies(t *testing.T) {
	d := demoAgreement(t)
	d.Copies = 3
	if page := render(t, d); !strings.Contains(page, "本协议一式3份，") {
		t.Error("Copies 3: the page lacks 一式3份")
	}
	d.Copies = 0
	d.Parties = append(d.Parties, casework.DocumentParty{Role: "委托代理人", Name: "赵律师", Representative: "王秀英"})
	page := render(t, d)
	if !strings.Contains(page, "本协议一式4份，") {
		t.Error("an agent does not keep a copy: want 一式4份 for three parties and the committee")
	}
	if !strings.Contains(page, "<th>委托人</th><td colspan=\"7\">王秀英</td>") {
		t.Error("the agent's block lacks 委托人")
	}
	if !strings.Contains(page, `<th class="role" rowspan="4">委托代理人</th>`) {
		t.Error("the agent's role cell does not span the agent's four rows")
	}
}

func TestRenderAgreementOral(t *testing.T) {
	d := demoAgreement(t)
	d.Oral = true
	d.Facts = ""
	page := render(t, d)
	for _, w := range []string{"<h1>口头调解协议登记</h1>", "<title>口头调解协议登记 ", "口头调解协议自各方当事人达成协议之日起生效。", "经调解，自愿达成如下协议："} {
		if !strings.Contains(page, w) {
			t.Errorf("the oral agreement lacks %q", w)
		}
	}
	for _, bad := range []string{"人民调解协议书", "本协议一式", "调解协议书自各方当事人签名"} {
		if strings.Contains(page, bad) {
			t.Errorf("the oral agreement contains %q", bad)
		}
	}
}

func TestRenderAgreementMinimal(t *testing.T) {
	page := render(t, casework.AgreementDocument{
		Number:      "西峰调〔2026〕00124号",
		Committee:   "肖金镇人民调解委员会",
		Parties:     []casework.DocumentParty{{Name: "刘某"}},
		Facts:       "邻里之间因排水沟发生争议。",
		Obligations: []casework.DocumentObligation{{Obligor: "刘某", Description: "于本月内疏通排水沟"}},
	})
	for _, w := range []string{
		`<th class="role" rowspan="3">当事人</th>`,
		"<p>刘某于本月内疏通排水沟。</p>",
		"本协议一式2份，",
		"<p>　　　　年　　月　　日</p>",
		"<td class=\"who\"></td>", // no recorder
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if strings.Contains(page, "各方当事人的责任") {
		t.Error("the page shows 各方当事人的责任 though none were given")
	}
}

func TestRenderAgreementObligations(t *testing.T) {
	due := time.Date(2026, 6, 30, 0, 0, 0, 0, cst)
	tests := []struct {
		o    casework.DocumentObligation
		want string
	}{
		{casework.DocumentObligation{Obligor: "甲", Obligee: "乙", Amount: "300", DueDate: due}, "甲于2026年6月30日前向乙支付人民币300元。"},
		{casework.DocumentObligation{Obligor: "甲", Obligee: "乙", Amount: "12.5", Description: "医药费。"}, "甲向乙支付人民币12.5元（医药费）。"},
		{casework.DocumentObligation{Obligor: "甲", Obligee: "乙", Description: "返还承包地经营权证", DueDate: due}, "甲于2026年6月30日前向乙返还承包地经营权证。"},
		{casework.DocumentObligation{Obligor: "甲", Description: "拆除越界搭建的棚舍。"}, "甲拆除越界搭建的棚舍。"},
	}
	for _, tt := range tests {
		d := demoAgreement(t)
		d.Obligations = []casework.DocumentObligation{tt.o}
		if page := render(t, d); !strings.Contains(page, "<p>"+tt.want+"</p>") {
			t.Errorf("obligation %+v: the page lacks %q", tt.o, tt.want)
		}
	}
}

func TestRenderAgreementInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(*casework.AgreementDocument)
		field  string
	}{
		{"no number", func(d *casework.AgreementDocument) { d.Number = " " }, "number"},
		{"no committee", func(d *casework.AgreementDocument) { d.Committee = "" }, "committee"},
		{"no parties", func(d *casework.AgreementDocument) { d.Parties = nil }, "parties"},
		{"party without a name", func(d *casework.AgreementDocument) { d.Parties[1].Name = "" }, "parties[1].name"},
		{"negative age", func(d *casework.AgreementDocument) { d.Parties[0].Age = -1 }, "parties[0].age"},
		{"no facts", func(d *casework.AgreementDocument) { d.Facts = "\n" }, "facts"},
		{"no terms", func(d *casework.AgreementDocument) { d.Terms, d.Obligations = "", nil }, "terms"},
		{"negative copies", func(d *casework.AgreementDocument) { d.Copies = -1 }, "copies"},
		{"obligation without obligor", func(d *casework.AgreementDocument) { d.Obligations[1].Obligor = "" }, "obligations[1].obligor"},
		{"obligation without content", func(d *casework.AgreementDocument) {
			d.Obligations[0].Amount, d.Obligations[0].Description = "", ""
		}, "obligations[0].description"},
		{"amount with a unit", func(d *casework.AgreementDocument) { d.Obligations[0].Amount = "5000元" }, "obligations[0].amount"},
		{"amount with separators", func(d *casework.AgreementDocument) { d.Obligations[0].Amount = "5,000.00" }, "obligations[0].amount"},
		{"amount with three decimals", func(d *casework.AgreementDocument) { d.Obligations[0].Amount = "5000.001" }, "obligations[0].amount"},
		{"negative amount", func(d *casework.AgreementDocument) { d.Obligations[0].Amount = "-5" }, "obligations[0].amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := demoAgreement(t)
			tt.change(&d)
			out, err := casework.RenderAgreement(d)
			var fe *casework.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("RenderAgreement = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field || fe.Message == "" {
				t.Errorf("error %q names field %q, want %q", fe, fe.Field, tt.field)
			}
			if out != nil {
				t.Error("RenderAgreement returned a page with the error")
			}
		})
	}
	// Terms alone, or obligations alone, are enough; so is Facts alone
	// missing from an oral agreement.
	d := demoAgreement(t)
	d.Obligations = nil
	render(t, d)
	d = demoAgreement(t)
	d.Terms = ""
	render(t, d)
}
