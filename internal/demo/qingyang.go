package demo

import "github.com/mediationd/mediationd/internal/casework"

// The fixed facts of 庆阳市 the generator draws on: its counties, their
// courts, towns and villages, and the names of its people. The township
// names are the real 乡镇 and 街道 of each county (a selection of them);
// villages and businesses are plausible inventions.

// cityCode is 庆阳市's GB/T 2260 code.
const cityCode = "621000"

// areaCode is 庆阳's telephone area code.
const areaCode = "0934"

// county is one county-level division of 庆阳市 with its basic court.
type county struct {
	code      string // GB/T 2260, e.g. 621002
	name      string // 西峰区
	slug      string // the prefix of its organization ids, e.g. xifeng
	court     string // court code, e.g. 甘1002
	courtName string
	// weight is the county's share of disputes (roughly its population).
	weight    int
	townships []township
}

// township is a 乡镇 or 街道, where disputes happen and whose people's
// mediation committee takes them.
type township struct {
	name    string // 肖金镇
	slug    string // xiaojin
	urban   bool   // a 街道: addresses are residential compounds, not villages
	village []string
}

var counties = []county{
	{code: "621002", name: "西峰区", slug: "xifeng", court: "甘1002", courtName: "庆阳市西峰区人民法院", weight: 22, townships: []township{
		{name: "北街街道", slug: "beijie", urban: true, village: []string{"北街社区", "长庆社区", "九龙社区"}},
		{name: "南街街道", slug: "nanjie", urban: true, village: []string{"南街社区", "西湖社区", "安定社区"}},
		{name: "肖金镇", slug: "xiaojin", village: []string{"肖金", "米堡", "左嘴", "杨桥"}},
		{name: "董志镇", slug: "dongzhi", village: []string{"董志", "南佐", "陈户", "冯堡"}},
		{name: "后官寨镇", slug: "houguanzhai", village: []string{"后官寨", "路堡", "王湾"}},
		{name: "彭原镇", slug: "pengyuan", village: []string{"彭原", "玉皇", "张咀"}},
	}},
	{code: "621021", name: "庆城县", slug: "qingcheng", court: "甘1021", courtName: "庆城县人民法院", weight: 11, townships: []township{
		{name: "庆城镇", slug: "qingcheng", village: []string{"封家洞", "田家城", "药王洞"}},
		{name: "驿马镇", slug: "yima", village: []string{"驿马", "关口", "花塬"}},
		{name: "马岭镇", slug: "maling", village: []string{"马岭", "纸坊", "庙咀"}},
		{name: "三十里铺镇", slug: "sanshilipu", village: []string{"三十里铺", "太乐", "冉沟"}},
		{name: "玄马镇", slug: "xuanma", village: []string{"玄马", "孔桥", "樊庙"}},
	}},
	{code: "621022", name: "环县", slug: "huanxian", court: "甘1022", courtName: "环县人民法院", weight: 12, townships: []township{
		{name: "环城镇", slug: "huancheng", village: []string{"城东", "西川", "肖关"}},
		{name: "曲子镇", slug: "quzi", village: []string{"曲子", "西沟", "双城"}},
		{name: "甜水镇", slug: "tianshui", village: []string{"甜水", "罗家湾", "沟门"}},
		{name: "木钵镇", slug: "mubo", village: []string{"木钵", "李家塬", "周台"}},
		{name: "洪德镇", slug: "hongde", village: []string{"洪德", "河连湾", "赵洼"}},
	}},
	{code: "621023", name: "华池县", slug: "huachi", court: "甘1023", courtName: "华池县人民法院", weight: 6, townships: []township{
		{name: "柔远镇", slug: "rouyuan", village: []string{"城关", "张川", "城壕"}},
		{name: "南梁镇", slug: "nanliang", village: []string{"荔园堡", "林锦庙", "闫洼子"}},
		{name: "悦乐镇", slug: "yuele", village: []string{"悦乐", "刘峁塬", "李良子"}},
		{name: "元城镇", slug: "yuancheng", village: []string{"元城", "西掌", "杜塬"}},
	}},
	{code: "621024", name: "合水县", slug: "heshui", court: "甘1024", courtName: "合水县人民法院", weight: 7, townships: []township{
		{name: "西华池镇", slug: "xihuachi", village: []string{"西华池", "师家庄", "张举塬"}},
		{name: "老城镇", slug: "laocheng", village: []string{"老城", "罗家庄", "保家沟"}},
		{name: "太白镇", slug: "taibai", village: []string{"太白", "葫芦河", "平定川"}},
		{name: "板桥镇", slug: "banqiao", village: []string{"板桥", "高家山", "宁塬"}},
	}},
	{code: "621025", name: "正宁县", slug: "zhengning", court: "甘1025", courtName: "正宁县人民法院", weight: 8, townships: []township{
		{name: "山河镇", slug: "shanhe", village: []string{"东关", "西坡", "南门"}},
		{name: "榆林子镇", slug: "yulinzi", village: []string{"榆林子", "东仁", "南庄"}},
		{name: "宫河镇", slug: "gonghe", village: []string{"宫河", "早朝", "刘家店"}},
		{name: "永和镇", slug: "yonghe", village: []string{"永和", "罗川", "北庄"}},
	}},
	{code: "621026", name: "宁县", slug: "ningxian", court: "甘1026", courtName: "宁县人民法院", weight: 16, townships: []township{
		{name: "新宁镇", slug: "xinning", village: []string{"南仓", "庙咀", "新庄"}},
		{name: "早胜镇", slug: "zaosheng", village: []string{"早胜", "东街", "南街"}},
		{name: "和盛镇", slug: "hesheng", village: []string{"和盛", "杨庄", "吴家坪"}},
		{name: "长庆桥镇", slug: "changqingqiao", village: []string{"长庆桥", "高户", "宇家"}},
		{name: "焦村镇", slug: "jiaocun", village: []string{"西沟", "西李", "湫池"}},
		{name: "平子镇", slug: "pingzi", village: []string{"平子", "柏树", "罗家"}},
	}},
	{code: "621027", name: "镇原县", slug: "zhenyuan", court: "甘1027", courtName: "镇原县人民法院", weight: 18, townships: []township{
		{name: "城关镇", slug: "chengguan", village: []string{"东关", "西门", "慕坪"}},
		{name: "屯字镇", slug: "tunzi", village: []string{"屯字", "路岭", "黄岔"}},
		{name: "孟坝镇", slug: "mengba", village: []string{"孟坝", "曹坪", "东山"}},
		{name: "平泉镇", slug: "pingquan", village: []string{"平泉", "彭阳", "花园"}},
		{name: "临泾镇", slug: "linjing", village: []string{"临泾", "席沟圈", "吴塬"}},
	}},
}

// specialisedRoom is one of the 29 专业性、类型化调解功能室: a
// 行业性专业性人民调解委员会 for some dispute types.
type specialisedRoom struct {
	region string // city or county code
	slug   string // the part of its id after the region's slug
	name   string // the part of its name after the region's name
	types  []casework.DisputeType
	staff  int // mediators
}

// specialisedRooms lists them: the city's committees, 西峰区's (the urban
// district has the most), and the traffic, medical, labour, land and
// requisition committees of the other counties.
var specialisedRooms = []specialisedRoom{
	{cityCode, "medical", "医疗纠纷人民调解委员会", []casework.DisputeType{casework.DisputeMedical}, 2},
	{cityCode, "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 2},
	{cityCode, "labor", "劳动争议人民调解委员会", []casework.DisputeType{casework.DisputeLabor}, 2},
	{cityCode, "property", "物业纠纷人民调解委员会", []casework.DisputeType{casework.DisputePropertyManagement}, 1},
	{cityCode, "consumer", "消费纠纷人民调解委员会", []casework.DisputeType{casework.DisputeConsumer}, 1},
	{cityCode, "environment", "环境污染纠纷人民调解委员会", []casework.DisputeType{casework.DisputeEnvironment}, 1},
	{cityCode, "commercial", "商事纠纷人民调解委员会", []casework.DisputeType{casework.DisputeContractDebt, casework.DisputeProductionBusiness}, 1},
	{"621002", "medical", "医疗纠纷人民调解委员会", []casework.DisputeType{casework.DisputeMedical}, 2},
	{"621002", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 2},
	{"621002", "labor", "劳动争议人民调解委员会", []casework.DisputeType{casework.DisputeLabor}, 1},
	{"621002", "property", "物业纠纷人民调解委员会", []casework.DisputeType{casework.DisputePropertyManagement}, 2},
	{"621002", "consumer", "消费纠纷人民调解委员会", []casework.DisputeType{casework.DisputeConsumer}, 1},
	{"621002", "requisition", "征地拆迁纠纷人民调解委员会", []casework.DisputeType{casework.DisputeLandRequisition}, 1},
	{"621021", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 1},
	{"621022", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 1},
	{"621023", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 1},
	{"621024", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 1},
	{"621025", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 1},
	{"621026", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 1},
	{"621027", "traffic", "道路交通事故纠纷人民调解委员会", []casework.DisputeType{casework.DisputeTrafficAccident}, 1},
	{"621021", "medical", "医疗纠纷人民调解委员会", []casework.DisputeType{casework.DisputeMedical}, 1},
	{"621022", "medical", "医疗纠纷人民调解委员会", []casework.DisputeType{casework.DisputeMedical}, 1},
	{"621026", "medical", "医疗纠纷人民调解委员会", []casework.DisputeType{casework.DisputeMedical}, 1},
	{"621027", "medical", "医疗纠纷人民调解委员会", []casework.DisputeType{casework.DisputeMedical}, 1},
	{"621021", "labor", "劳动争议人民调解委员会", []casework.DisputeType{casework.DisputeLabor}, 1},
	{"621026", "labor", "劳动争议人民调解委员会", []casework.DisputeType{casework.DisputeLabor}, 1},
	{"621022", "land", "农村土地承包经营纠纷人民调解委员会", []casework.DisputeType{casework.DisputeLandForestContract}, 1},
	{"621027", "land", "农村土地承包经营纠纷人民调解委员会", []casework.DisputeType{casework.DisputeLandForestContract}, 1},
	{"621021", "requisition", "征地拆迁纠纷人民调解委员会", []casework.DisputeType{casework.DisputeLandRequisition}, 1},
}

// stationedRoom is a 派驻调解室 in a court, a police station or the
// petitions office.
type stationedRoom struct {
	region string
	slug   string
	name   string
	host   casework.Source // the channel whose disputes it receives
	roster bool
}

var stationedRooms = []stationedRoom{
	{"621002", "court-room", "庆阳市西峰区人民法院派驻人民调解室", casework.SourceCourtDelegated, true},
	{"621002", "police-room", "庆阳市公安局西峰分局北街派出所驻所人民调解室", casework.SourcePolice, false},
	{"621026", "court-room", "宁县人民法院派驻人民调解室", casework.SourceCourtDelegated, true},
	{"621027", "police-room", "镇原县公安局城关派出所驻所人民调解室", casework.SourcePolice, false},
	{cityCode, "petition-room", "庆阳市信访局派驻人民调解室", casework.SourcePetitionOffice, false},
}

// surnames are common family names of 陇东, the more frequent first and
// repeated to weigh them.
var surnames = []string{
	"王", "王", "王", "李", "李", "李", "张", "张", "张", "刘", "刘", "杨", "杨", "马", "马", "赵", "陈",
	"何", "魏", "郭", "曹", "雷", "牛", "巩", "慕", "路", "党", "米", "高", "徐", "孙", "周", "吴",
	"朱", "胡", "韩", "冯", "贾", "董", "段", "樊", "姚", "席", "付", "任", "田", "蒲", "苏", "乔",
	"邓", "许", "梁", "宋", "史", "吕", "薛", "闫", "白", "景", "惠", "郑", "范",
}

var maleGiven = []string{
	"建国", "建军", "国强", "志强", "小军", "永刚", "海东", "卫东", "明", "伟", "军", "强", "斌", "鹏",
	"亮", "杰", "涛", "勇", "刚", "磊", "文斌", "志刚", "红军", "德胜", "福生", "富贵", "长林", "玉祥",
	"成林", "海军", "宏伟", "俊杰", "子豪", "浩然", "振华", "守仁", "治国", "兴旺", "存虎", "锁平",
}

var femaleGiven = []string{
	"秀英", "桂英", "秀兰", "玉兰", "桂兰", "凤英", "秀珍", "丽", "静", "敏", "燕", "娟", "霞", "芳",
	"婷", "丹", "艳", "红梅", "海燕", "晓燕", "小红", "春花", "彩霞", "玉梅", "金花", "亚琴", "淑芳",
	"雪梅", "慧", "琳", "欣怡", "雨婷", "梦瑶", "佳", "莉", "翠萍", "润霞", "巧玲", "爱琴", "兰芳",
}

// occupations of working-age people, farmers weighed most, and of the
// elderly.
var (
	occupations    = []string{"农民", "农民", "农民", "务工人员", "个体经营", "公司职员", "教师", "司机", "无业", "建筑工人", "医生"}
	oldOccupations = []string{"农民", "农民", "退休", "无业"}
)

// business is a plausible business of 庆阳市 for legal-person parties,
// with the type prefix of its unified social credit code (91 a company,
// 92 an individual business, 93 a farmers' cooperative, 52 a private
// non-enterprise unit, 12 a public institution).
type business struct {
	name   string
	prefix string
}

// The businesses by what they do; a name that begins with a county's name
// is only a party to that county's disputes.
var (
	builders = []business{
		{"甘肃陇东建筑工程有限公司", "91"},
		{"庆阳恒通建设有限责任公司", "91"},
		{"庆阳市华辰置业有限公司", "91"},
		{"庆阳长庆劳务服务有限公司", "91"},
	}
	traders = []business{
		{"庆阳市西峰区鑫源商贸有限公司", "91"},
		{"庆城县鑫达运输有限公司", "91"},
		{"庆阳市鸿运汽车销售服务有限公司", "91"},
		{"庆阳陇原餐饮管理有限公司", "91"},
		{"宁县金果苹果专业合作社", "93"},
	}
	factories = []business{
		{"庆阳金源石化设备有限公司", "91"},
		{"镇原县恒发砖厂", "91"},
		{"庆阳陇缘果业加工有限公司", "91"},
		{"环县兴农养殖专业合作社", "93"},
	}
	applianceShops = []business{
		{"西峰区优家家电商行", "92"},
		{"西峰区佳和家电城", "92"},
		{"庆阳市万家福超市有限公司", "91"},
	}
	schools = []business{
		{"庆阳市康乐教育培训学校", "52"},
		{"西峰区启航艺术培训中心", "52"},
	}
)

var propertyCompanies = []business{
	{"庆阳市安居物业服务有限公司", "91"},
	{"庆阳嘉禾物业管理有限公司", "91"},
	{"西峰区锦华物业服务有限公司", "91"},
}

var insurers = []business{
	{"中国人民财产保险股份有限公司庆阳市分公司", "91"},
	{"中国平安财产保险股份有限公司庆阳中心支公司", "91"},
	{"中国太平洋财产保险股份有限公司庆阳中心支公司", "91"},
}

// hospitals by region: the county hospital of each county, and the city's.
var hospitals = map[string][]string{
	cityCode: {"庆阳市人民医院", "庆阳市中医医院"},
	"621002": {"庆阳市人民医院", "西峰区人民医院", "庆阳市妇幼保健院"},
	"621021": {"庆城县人民医院", "庆城县中医医院"},
	"621022": {"环县人民医院", "环县中医医院"},
	"621023": {"华池县人民医院"},
	"621024": {"合水县人民医院"},
	"621025": {"正宁县人民医院"},
	"621026": {"宁县人民医院", "宁县中医医院"},
	"621027": {"镇原县人民医院", "镇原县中医医院"},
}

var lawFirms = []string{"甘肃陇东律师事务所", "甘肃庆阳正大律师事务所", "甘肃凤城律师事务所"}

// mobilePrefixes are the first three digits of mainland mobile numbers.
var mobilePrefixes = []string{"133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "158", "173", "177", "180", "181", "186", "187", "189", "199"}
