package demo

import (
	"slices"

	"github.com/mediationd/mediationd/internal/casework"
)

// shape says who the parties of a scenario are.
type shape int

const (
	shapeNeighbors            shape = iota // two villagers or residents
	shapeCouple                            // spouses or former spouses
	shapeElder                             // an elderly parent and an adult child
	shapeSiblings                          // brothers and sisters
	shapePersonVsCompany                   // a person and a business
	shapeWorkersVsCompany                  // workers (often many) and their employer
	shapePatientVsHospital                 // a patient's family and a hospital
	shapeTraffic                           // the injured and the driver, maybe an insurer
	shapePropertyVsOwner                   // a property company and an owner
	shapeOwnersVsProperty                  // owners (often many) and their property company
	shapeConsumer                          // a consumer and a shop
	shapeVillagersVsCommittee              // villagers and their village committee
	shapeVillagersVsCompany                // villagers (often many) and a business
)

// group reports whether a shape's applicants are often many (群体性).
func (s shape) group() bool {
	return s == shapeWorkersVsCompany || s == shapeOwnersVsProperty || s == shapeVillagersVsCompany
}

// scenario is a kind of dispute with the texts of its registration and
// agreement. Placeholders: {A} the applicants, {B} the respondent, {P}
// the place, {C} the amount claimed, {X} the amount agreed, {DUE} the
// date the agreement must be performed by, {Y} a year before the dispute.
type scenario struct {
	shape   shape
	summary string
	facts   string
	terms   string
	// duty describes the money obligation; "" when the agreement has none.
	duty string
	// lo and hi bound the amount claimed, in yuan.
	lo, hi int
	// applicantPays says the applicant owes the money, not the respondent.
	applicantPays bool
	// firms are the businesses that may be a party.
	firms  []business
	minors float64 // chance that minors are involved
	risk   float64 // chance of escalation risk (可能激化)
}

var scenarios = map[casework.DisputeType][]scenario{
	casework.DisputeMarriageFamily: {
		{shape: shapeCouple, minors: 0.6, risk: 0.1,
			summary: "{A}与{B}系夫妻，因家庭琐事及子女教育问题长期争吵，{A}提出离婚，双方就子女抚养和财产分割存在争议。",
			facts:   "{A}与{B}于{Y}年登记结婚，婚后育有子女。近年来双方因家庭琐事矛盾加深，{A}已回娘家居住三个月，{B}多次上门发生争执。",
			terms:   "经调解，双方同意和好，共同抚养子女；{B}保证戒酒并尊重{A}，家庭收入由双方共同管理。"},
		{shape: shapeElder, risk: 0.05, duty: "每月支付赡养费", lo: 300, hi: 1000,
			summary: "赡养纠纷：{A}年事已高，丧失劳动能力，要求其子{B}每月支付赡养费{C}元并承担医疗费用。",
			facts:   "{A}育有子女三人，均已成家。{A}患慢性病需长期服药，{B}以经济困难为由拒绝支付赡养费。",
			terms:   "{B}自本协议签订之日起每月10日前向{A}支付赡养费{X}元；{A}住院医疗费用由子女三人平均分担。"},
		{shape: shapeSiblings, risk: 0.05, duty: "支付房屋折价补偿款", lo: 20000, hi: 80000,
			summary: "继承纠纷：{A}与{B}系兄弟姐妹，因父亲遗留的{P}宅院继承问题发生纠纷，{A}要求分得折价款{C}元。",
			facts:   "{A}、{B}之父于{Y}年去世，留有{P}宅院一处，未留遗嘱。{B}一直居住在该宅院，{A}要求分割遗产。",
			terms:   "宅院归{B}所有，{B}于{DUE}前一次性补偿{A}人民币{X}元，双方就该遗产再无争议。"},
		{shape: shapeCouple, minors: 1, duty: "支付拖欠的抚养费", lo: 3000, hi: 15000,
			summary: "抚养费纠纷：{A}与{B}已离婚，子女随{A}生活，{B}长期未支付抚养费，累计拖欠{C}元。",
			facts:   "{A}与{B}于{Y}年协议离婚，约定子女由{A}抚养，{B}每月支付抚养费。{B}自外出务工后未再支付。",
			terms:   "{B}于{DUE}前一次性支付拖欠的抚养费{X}元，此后每月按时支付抚养费至子女年满十八周岁。"},
	},
	casework.DisputeNeighbor: {
		{shape: shapeNeighbors, risk: 0.05, duty: "赔偿院墙修缮费用", lo: 800, hi: 5000,
			summary: "{A}与{B}系{P}邻居，{B}翻修房屋时将排水管引向{A}家一侧，致{A}家院墙受潮开裂，双方多次发生争执。",
			facts:   "{B}于今年翻修房屋，将屋面排水管引向两家交界处，雨水长期浸泡致{A}家院墙开裂，{A}要求赔偿{C}元。",
			terms:   "{B}于{DUE}前将排水管改向自家院落，并赔偿{A}院墙修缮费用{X}元；双方今后互谅互让，和睦相处。"},
		{shape: shapeNeighbors, duty: "赔偿地坪修复费用", lo: 500, hi: 3000,
			summary: "{A}与{B}系{P}邻居，因{B}宅前杨树遮挡光照、树根拱坏{A}家地坪发生纠纷。",
			facts:   "{B}宅前栽种的杨树已高过房顶，遮挡{A}家采光，树根致{A}家院内地坪隆起开裂。",
			terms:   "{B}于{DUE}前自行砍伐遮挡光照的杨树，并赔偿{A}地坪修复费用{X}元。"},
	},
	casework.DisputeHousingHomestead: {
		{shape: shapeNeighbors, risk: 0.1, duty: "补偿院墙拆除费用", lo: 500, hi: 3000, applicantPays: true,
			summary: "{A}与{B}因{P}宅基地界址不清发生纠纷，{B}新建院墙超出原有界线约半米。",
			facts:   "经村委会及司法所工作人员现场勘查，{B}新建院墙超出{Y}年宅基地确权登记图所标界线约半米。",
			terms:   "双方以宅基地确权登记图为准重新确定界址，{B}于{DUE}前拆除超出部分院墙，{A}补偿{B}拆除费用{X}元。"},
		{shape: shapeNeighbors, duty: "支付剩余房款", lo: 20000, hi: 100000, applicantPays: true,
			summary: "{A}购买{B}位于{P}的房屋后，{B}迟迟不配合办理过户手续，双方发生纠纷。",
			facts:   "{A}于{Y}年以分期付款方式购买{B}房屋一套，已付大部分房款，剩余{C}元约定过户时付清。",
			terms:   "{B}于{DUE}前配合{A}办理房屋过户登记，{A}在过户当日支付剩余房款{X}元。"},
	},
	casework.DisputeContractDebt: {
		{shape: shapeNeighbors, duty: "归还借款本金", lo: 5000, hi: 150000,
			summary: "民间借贷纠纷：{B}向{A}借款{C}元用于经营，约定一年内归还，到期后经多次催要未还。",
			facts:   "{Y}年{B}向{A}借款{C}元并出具借条，约定一年内归还。借款到期后{B}以资金周转困难为由拖延。",
			terms:   "{B}于{DUE}前分两期归还{A}借款本金{X}元，{A}放弃利息请求。"},
		{shape: shapePersonVsCompany, firms: traders, duty: "支付运费", lo: 3000, hi: 60000,
			summary: "{A}为{B}提供车辆运输服务，{B}拖欠运费{C}元未付。",
			facts:   "{A}自{Y}年起为{B}运输建材，双方按月结算。{B}自去年下半年起未再结算运费，累计拖欠{C}元。",
			terms:   "{B}于{DUE}前一次性支付{A}运费{X}元。"},
	},
	casework.DisputeProductionBusiness: {
		{shape: shapeNeighbors, duty: "支付合伙分红及投资款", lo: 10000, hi: 120000,
			summary: "{A}与{B}合伙经营苹果收购生意，因合伙账目不清、利润分配发生纠纷。",
			facts:   "{A}与{B}于{Y}年口头约定合伙收购苹果，各出资一半，由{B}负责记账。合伙结束后{B}未进行结算。",
			terms:   "双方同意解除合伙关系，{B}于{DUE}前向{A}支付合伙分红及投资款共计{X}元。"},
		{shape: shapeNeighbors, duty: "赔偿苗木损失", lo: 2000, hi: 30000,
			summary: "{A}从{B}处购买的果树苗木成活率低，造成损失约{C}元，双方就赔偿发生纠纷。",
			facts:   "{A}于今春从{B}处购买苹果苗木两千余株，栽植后成活率不足五成，经农技人员查看系苗木质量问题。",
			terms:   "{B}于{DUE}前赔偿{A}苗木损失{X}元，并于秋季免费补栽苗木。"},
	},
	casework.DisputeDamages: {
		{shape: shapeNeighbors, minors: 0.3, duty: "赔偿医疗费、误工费", lo: 1000, hi: 15000,
			summary: "{B}饲养的犬只将{A}家人咬伤，双方就医疗费等赔偿事宜发生纠纷。",
			facts:   "{B}饲养的犬只未拴养，在{P}村道上将{A}家人咬伤，{A}花去医疗费、疫苗费等{C}元。",
			terms:   "{B}于{DUE}前一次性赔偿{A}医疗费、误工费等共计{X}元，并将犬只拴养，此后双方再无纠葛。"},
		{shape: shapeNeighbors, risk: 0.35, duty: "赔偿医疗费、护理费", lo: 2000, hi: 30000,
			summary: "{A}与{B}因琐事发生口角并互相推搡，{A}受伤住院，双方就医疗费赔偿发生纠纷。",
			facts:   "{A}与{B}因琐事在{P}发生口角，{B}推搡致{A}摔倒骨折，住院治疗花去{C}元。派出所已出警调查。",
			terms:   "{B}向{A}赔礼道歉，并于{DUE}前赔偿医疗费、护理费共计{X}元。"},
		{shape: shapeNeighbors, duty: "赔偿青苗损失", lo: 300, hi: 3000,
			summary: "{B}放牧的羊群啃食{A}家麦苗，造成损失，双方发生纠纷。",
			facts:   "{B}放牧时疏于看管，羊群进入{A}家承包地啃食冬小麦约两亩。",
			terms:   "{B}于{DUE}前赔偿{A}青苗损失{X}元，今后加强看管。"},
	},
	casework.DisputeLandForestContract: {
		{shape: shapeNeighbors, risk: 0.1, duty: "补偿当季收益", lo: 300, hi: 3000,
			summary: "{A}与{B}因{P}承包地地界不清发生纠纷，{B}耕种时越界约三垄。",
			facts:   "{A}与{B}承包地相邻，原有界石在平整土地时被毁。{B}今春耕种时越过原地界约三垄。",
			terms:   "双方以土地承包经营权证为准重新埋设界桩，{B}退还多耕种土地，并补偿{A}当季收益{X}元。"},
		{shape: shapeVillagersVsCommittee, duty: "补偿林地损失", lo: 2000, hi: 20000,
			summary: "{A}承包的{P}集体林地被村委会另行发包他人，双方发生纠纷。",
			facts:   "{A}于{Y}年与村委会签订林地承包合同，期限三十年。村委会以{A}未按期经营为由将林地另行发包。",
			terms:   "村委会于{DUE}前收回另行发包的林地并返还{A}，补偿{A}损失{X}元。"},
	},
	casework.DisputeLandRequisition: {
		{shape: shapeVillagersVsCompany, firms: builders, risk: 0.4, duty: "支付青苗及附着物补偿款", lo: 20000, hi: 300000,
			summary: "{P}村民{A}因道路建设征收土地的青苗及地上附着物补偿问题与{B}发生纠纷。",
			facts:   "{B}承建的道路工程占用{P}耕地，{A}认为青苗及果树补偿未按县政府公布的标准计算，要求补偿{C}元。",
			terms:   "{B}按照县政府公布的补偿标准，于{DUE}前向{A}支付青苗及地上附着物补偿款{X}元。"},
		{shape: shapeVillagersVsCommittee, risk: 0.3, duty: "补发征地补偿款", lo: 10000, hi: 60000,
			summary: "{A}认为村委会分配征地补偿款时未将其家庭成员计入，要求补发{C}元。",
			facts:   "{P}土地于{Y}年被征收，村委会按人口分配补偿款时未将{A}出嫁后户口未迁出的女儿计入。",
			terms:   "村委会于{DUE}前向{A}补发征地补偿款{X}元。"},
	},
	casework.DisputeLabor: {
		{shape: shapeWorkersVsCompany, firms: builders, risk: 0.3, duty: "支付拖欠工资", lo: 8000, hi: 300000,
			summary: "{A}在{B}承建的工地务工，工程完工后{B}拖欠工资{C}元未付。",
			facts:   "{A}于{Y}年起在{B}承建的工地从事砌筑、钢筋等工作，工程完工后{B}以工程款未结算为由拖欠工资。",
			terms:   "{B}于{DUE}前一次性支付{A}工资共计{X}元。"},
		{shape: shapePersonVsCompany, firms: slices.Concat(traders, factories), duty: "支付工伤待遇", lo: 20000, hi: 150000,
			summary: "{A}在{B}工作期间因工受伤，双方就工伤待遇发生争议，{A}要求赔偿{C}元。",
			facts:   "{A}在{B}从事装卸工作时被货物砸伤左腿，经鉴定为十级伤残。{B}未为{A}缴纳工伤保险。",
			terms:   "{B}于{DUE}前一次性支付{A}医疗费、停工留薪期工资及一次性伤残补助金共计{X}元，双方劳动关系解除。"},
	},
	casework.DisputeEnvironment: {
		{shape: shapeVillagersVsCompany, firms: factories, risk: 0.3, duty: "赔偿农作物损失", lo: 5000, hi: 80000,
			summary: "{B}的生产废水排入{P}灌溉渠，造成{A}农作物减产。",
			facts:   "{B}生产废水未经处理排入灌溉渠，{A}引水灌溉后玉米大面积枯黄，经农业部门查看确认减产。",
			terms:   "{B}于{DUE}前完成污水处理设施整改，并赔偿{A}农作物损失{X}元。"},
		{shape: shapeNeighbors, duty: "补偿环境影响损失", lo: 1000, hi: 10000,
			summary: "{B}经营的养殖场粪污随意堆放，气味及污水影响{A}家生活，双方发生纠纷。",
			facts:   "{B}在{P}经营养牛场，粪污未经处理堆放在{A}家房后，夏季气味难闻并有污水渗入院内。",
			terms:   "{B}于{DUE}前将粪污清运并建设防渗堆粪场，补偿{A}{X}元。"},
	},
	casework.DisputeTrafficAccident: {
		{shape: shapeTraffic, duty: "赔偿交通事故各项损失", lo: 5000, hi: 200000,
			summary: "{B}驾驶小型轿车与{A}驾驶的电动车相撞，致{A}受伤，交警部门认定{B}负事故主要责任，双方就赔偿事宜发生纠纷。",
			facts:   "事故发生于{P}路段，{A}受伤住院治疗，花去医疗费等费用。交警部门出具事故认定书，{B}负主要责任，{A}要求赔偿{C}元。",
			terms:   "{B}（含保险公司理赔部分）于{DUE}前赔偿{A}医疗费、误工费、护理费、交通费等各项损失共计{X}元。"},
		{shape: shapeNeighbors, duty: "赔偿院墙修复费用", lo: 1000, hi: 8000,
			summary: "{B}驾驶农用三轮车倒车时撞倒{A}家院墙，双方就赔偿发生纠纷。",
			facts:   "{B}在{P}村道倒车时操作不当，撞倒{A}家院墙约六米。",
			terms:   "{B}于{DUE}前赔偿{A}院墙修复费用{X}元。"},
	},
	casework.DisputeMedical: {
		{shape: shapePatientVsHospital, risk: 0.4, duty: "支付人道主义补偿款", lo: 30000, hi: 300000,
			summary: "{A}的父亲在{B}住院治疗期间死亡，{A}认为医院存在诊疗过错，要求赔偿{C}元。",
			facts:   "患者因心梗入住{B}，入院第三日病情突然加重经抢救无效死亡。家属认为医院观察不及时，医院认为已尽诊疗义务。",
			terms:   "{B}本着人道主义于{DUE}前一次性补偿{A}等家属{X}元，双方就此事再无争议。"},
		{shape: shapePatientVsHospital, duty: "赔偿医疗损害", lo: 10000, hi: 120000,
			summary: "{A}在{B}接受膝关节手术后出现感染并二次手术，双方就医疗损害赔偿发生争议。",
			facts:   "{A}于{Y}年在{B}行膝关节置换术，术后出现切口感染，再次手术治疗，增加医疗费用及误工损失。",
			terms:   "{B}于{DUE}前赔偿{A}医疗费、误工费等共计{X}元。"},
	},
	casework.DisputePropertyManagement: {
		{shape: shapePropertyVsOwner, firms: propertyCompanies, duty: "缴纳物业服务费", lo: 800, hi: 6000,
			summary: "{A}称{B}拖欠物业服务费{C}元，{B}以小区电梯经常故障为由拒交。",
			facts:   "{B}系{P}小区业主，自{Y}年起未缴纳物业服务费。{B}称小区电梯多次困人，物业维修不及时。",
			terms:   "{A}于{DUE}前完成电梯维修；{B}于{DUE}前缴纳物业服务费{X}元，{A}免除滞纳金。"},
		{shape: shapeOwnersVsProperty, firms: propertyCompanies, risk: 0.2, duty: "减免物业费", lo: 5000, hi: 40000,
			summary: "{P}业主{A}因小区地下车库渗水、公共设施维护不到位与{B}发生纠纷。",
			facts:   "小区地下车库自今春起持续渗水，多辆车辆受损，业主多次反映，{B}未及时维修。",
			terms:   "{B}于{DUE}前完成地下车库防水维修，并减免业主当年物业费共计{X}元。"},
	},
	casework.DisputeConsumer: {
		{shape: shapeConsumer, firms: applianceShops, duty: "退还货款", lo: 1500, hi: 8000,
			summary: "{A}在{B}购买的冰箱使用一个月即出现故障，多次维修未果，要求退货。",
			facts:   "{A}于今年在{B}购买冰箱一台，价款{C}元。使用一个月后冰箱不制冷，经两次维修仍未修好。",
			terms:   "{B}于{DUE}前为{A}办理退货，退还货款{X}元。"},
		{shape: shapeConsumer, firms: schools, minors: 0.8, duty: "退还剩余课时费", lo: 1000, hi: 10000,
			summary: "{A}为孩子在{B}报名培训课程后因故退课，{B}拒绝退还剩余课时费{C}元。",
			facts:   "{A}于{Y}年为孩子一次性缴纳一年课时费，上课两个月后因孩子转学要求退课，{B}以合同约定不退费为由拒绝。",
			terms:   "{B}于{DUE}前退还{A}剩余课时费{X}元。"},
	},
	casework.DisputeVillageAffairs: {
		{shape: shapeVillagersVsCommittee, risk: 0.15,
			summary: "{A}认为村委会在低保评定及村务公开中不公平，与村委会发生纠纷。",
			facts:   "{A}家庭困难，连续两年申请低保未获通过，认为评定过程不公开，多次到村委会理论。",
			terms:   "村委会于{DUE}前公开村级财务收支及低保评定过程，对{A}家庭情况重新入户核查并如实上报。"},
		{shape: shapeVillagersVsCommittee, duty: "补偿果树投入", lo: 3000, hi: 30000,
			summary: "{A}承包的{P}集体果园合同到期后，村委会收回重新发包，双方就果树补偿发生纠纷。",
			facts:   "{A}于{Y}年承包村集体果园，合同到期后村委会收回重新发包，{A}要求补偿果树投入{C}元。",
			terms:   "村委会于{DUE}前补偿{A}果树投入{X}元，{A}于补偿到位后交还果园。"},
	},
	casework.DisputeOther: {
		{shape: shapeNeighbors, duty: "支付农机具折价款", lo: 2000, hi: 20000,
			summary: "{A}与{B}因合伙购买的农机具使用及维修费用分担发生纠纷。",
			facts:   "{A}与{B}于{Y}年合伙购买旋耕机一台，因使用时间分配及维修费用分担问题多次发生争吵。",
			terms:   "农机具归{B}所有，{B}于{DUE}前补偿{A}{X}元。"},
		{shape: shapeNeighbors, duty: "赔偿粮食损失", lo: 500, hi: 6000,
			summary: "{A}委托{B}代为保管的粮食发生霉变，双方就损失承担发生纠纷。",
			facts:   "{A}外出务工前将小麦两千余斤交{B}保管，{B}存放不当致粮食受潮霉变。",
			terms:   "{B}于{DUE}前赔偿{A}粮食损失{X}元。"},
	},
}

// The closing texts, by reason.
var (
	rejectReasons = []string{
		"纠纷已进入诉讼程序，不属于人民调解受理范围",
		"被申请人明确拒绝调解（人民调解法第十七条），不予受理",
		"申请事项属于行政机关职权范围，已告知当事人向有关部门反映",
		"申请事项不属于民间纠纷，不予受理",
	}
	intakeWithdrawReasons = []string{
		"申请人表示双方已自行和解，撤回调解申请",
		"申请人决定直接向人民法院起诉，撤回调解申请",
	}
	withdrawReasons = []string{
		"双方已自行和解，申请人撤回调解申请",
		"申请人决定向人民法院起诉，撤回调解申请",
		"申请人表示不再追究，撤回申请",
	}
	failureTexts = map[casework.FailureReason]string{
		casework.FailurePositionsTooFar:     "双方对赔偿数额分歧较大，经多次调解未能达成一致，已告知当事人可依法通过诉讼途径解决。",
		casework.FailurePartyRefuses:        "被申请人明确表示不同意继续调解，依照人民调解法第二十六条终止调解。",
		casework.FailurePartyUnreachable:    "被申请人长期外出，多次联系未果，调解无法继续进行。",
		casework.FailureReferredToCourt:     "调解不成，告知当事人依法向人民法院提起诉讼。",
		casework.FailureReferredArbitration: "调解不成，告知申请人向劳动人事争议仲裁委员会申请仲裁。",
		casework.FailureReferredAdmin:       "纠纷涉及行政职权，告知当事人向相关行政机关申请处理。",
		casework.FailureOutsideScope:        "经调查，纠纷涉及刑事案件线索，不属于人民调解范围，已移交公安机关。",
		casework.FailureOther:               "当事人一方进入破产清算程序，调解终止。",
	}
	failureReasons = []casework.FailureReason{
		casework.FailurePositionsTooFar, casework.FailurePartyRefuses, casework.FailurePartyUnreachable,
		casework.FailureReferredToCourt, casework.FailureReferredArbitration, casework.FailureReferredAdmin,
		casework.FailureOutsideScope, casework.FailureOther,
	}
	noFollowUpReasons = []string{
		"协议已当场履行完毕，无需回访",
		"款项已即时结清，经电话确认无需回访",
		"当事人明确表示无需回访",
	}
	sessionResults = []string{"双方同意继续协商", "双方初步达成一致意见", "双方分歧较大，约定再次调解", "被申请人表示回去与家人商量后答复"}
	cancelReasons  = []string{"被申请人因病无法到场，改期调解", "因降雪道路结冰，改期调解", "申请人临时外出，申请改期"}
)
