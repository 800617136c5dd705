package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

// gen is the generator's state: one PCG stream, read in a fixed order, so
// that a seed always gives the same plan.
type gen struct {
	r   *rand.Rand
	loc *time.Location
	now time.Time
	// usedNames keeps mediators' names apart.
	usedNames map[string]bool
}

func (g *gen) intn(n int) int { return g.r.IntN(n) }

// between returns an int in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// weighted is a choice with its weight.
type weighted[T any] struct {
	v T
	w int
}

func pickWeighted[T any](g *gen, ws []weighted[T]) T {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	n := g.r.IntN(total)
	for _, w := range ws {
		if n < w.w {
			return w.v
		}
		n -= w.w
	}
	return ws[len(ws)-1].v
}

// person is a natural person as the generator made them, before they
// become a party.
type person struct {
	name   string
	gender casework.Gender
	birth  time.Time
	region string // the county code of their identity number
}

// newPerson makes a person of the given gender ("" for either) aged
// between minAge and maxAge at time at. surname "" picks one.
func (g *gen) newPerson(gender casework.Gender, surname string, minAge, maxAge int, at time.Time, region string) person {
	if gender == "" {
		gender = casework.GenderMale
		if g.chance(0.45) {
			gender = casework.GenderFemale
		}
	}
	if surname == "" {
		surname = pick(g, surnames)
	}
	given := pick(g, maleGiven)
	if gender == casework.GenderFemale {
		given = pick(g, femaleGiven)
	}
	y, m, d := at.In(g.loc).Date()
	latest := time.Date(y-minAge, m, d, 0, 0, 0, 0, time.UTC)
	earliest := time.Date(y-maxAge-1, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	days := int(latest.Sub(earliest).Hours() / 24)
	birth := earliest.AddDate(0, 0, g.intn(days+1))
	return person{name: surname + given, gender: gender, birth: birth, region: region}
}

// residentIDWeights are the GB 11643 weights of the first 17 digits.
var residentIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentID returns a 居民身份证号码 for p (GB 11643-1999): the county of
// registration, the birth date, a sequence number whose last digit is odd
// for men and even for women, and the ISO 7064 MOD 11-2 check character.
func (g *gen) residentID(p person) string {
	seq := g.intn(100)*10 + 2*g.intn(5)
	if p.gender == casework.GenderMale {
		seq++
	}
	body := fmt.Sprintf("%s%s%03d", p.region, p.birth.Format("20060102"), seq)
	sum := 0
	for i, w := range residentIDWeights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

// usccCharset is the alphabet of the unified social credit code, each
// character's index its value.
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgCodeWeights are the GB 11714 weights of an organization code's eight
// characters; the ninth is their check character.
var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// usci returns a 统一社会信用代码 (GB 32100-2015): the registration
// authority and type (prefix, e.g. 91), the region, an organization code
// with its GB 11714 check character, and the check character over all.
func (g *gen) usci(prefix, region string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(region)
	sum := 0
	for _, w := range orgCodeWeights {
		d := g.intn(10)
		sum += d * w
		b.WriteByte(byte('0' + d))
	}
	switch c := 11 - sum%11; c {
	case 10:
		b.WriteByte('X')
	case 11:
		b.WriteByte('0')
	default:
		b.WriteByte(byte('0' + c))
	}
	s := b.String()
	total := 0
	for i, w := range usccWeights {
		total += strings.IndexByte(usccCharset, s[i]) * w
	}
	return s + string(usccCharset[(31-total%31)%31])
}

// mobile returns a mainland mobile number.
func (g *gen) mobile() string {
	return fmt.Sprintf("%s%08d", pick(g, mobilePrefixes), g.intn(100000000))
}

// landline returns a 庆阳 landline number.
func (g *gen) landline() string {
	return fmt.Sprintf("%s-%d%06d", areaCode, g.between(2, 8), g.intn(1000000))
}

// address returns an address in a village (or community) v of township t
// of county c.
func (g *gen) address(c county, t township, v string) string {
	if t.urban {
		return fmt.Sprintf("甘肃省庆阳市%s%s%s%d号楼%d单元%d%02d室", c.name, t.name, v, g.between(1, 28), g.between(1, 4), g.between(1, 18), g.between(1, 4))
	}
	return fmt.Sprintf("甘肃省庆阳市%s%s%s村%d组", c.name, t.name, v, g.between(1, 9))
}

// naturalParty turns a person into a party with the personal data a
// registration usually has: most carry a resident ID card and a mobile
// number. at is when they are registered; most live in the village where
// the dispute arose.
func (g *gen) naturalParty(id string, role casework.PartyRole, p person, c county, t township, village string, at time.Time) casework.Party {
	occupation := pick(g, occupations)
	if at.Sub(p.birth) > 58*365*24*time.Hour {
		occupation = pick(g, oldOccupations)
	}
	if !g.chance(0.8) {
		village = pick(g, t.village)
	}
	party := casework.Party{
		ID:         id,
		Name:       p.name,
		Role:       role,
		Kind:       casework.KindNaturalPerson,
		Gender:     p.gender,
		Ethnicity:  "汉族",
		BirthDate:  p.birth.Format(time.DateOnly),
		Occupation: occupation,
		Address:    g.address(c, t, village),
	}
	if g.chance(0.02) {
		party.Ethnicity = "回族"
	}
	if g.chance(0.9) {
		party.IDType = casework.IDResidentCard
		party.IDNumber = g.residentID(p)
	}
	if g.chance(0.92) {
		party.Phone = g.mobile()
	}
	return party
}

// legalParty is a legal person or other organization taking part in a
// dispute, identified by its unified social credit code.
func (g *gen) legalParty(id string, role casework.PartyRole, b business, region string, at time.Time) casework.Party {
	rep := g.newPerson("", "", 35, 60, at, region)
	return casework.Party{
		ID:                  id,
		Name:                b.name,
		Role:                role,
		Kind:                casework.KindLegalPerson,
		IDType:              casework.IDUnifiedSocialCreditCode,
		IDNumber:            g.usci(b.prefix, region),
		LegalRepresentative: rep.name,
		Phone:               g.landline(),
		Address:             fmt.Sprintf("甘肃省庆阳市%s%s%d号", cityPrefix(region), pick(g, streets), g.between(1, 320)),
	}
}

// streets are street names for the addresses of businesses.
var streets = []string{"人民路", "建设路", "解放路", "迎宾大道", "长庆大道", "东环路", "西环路", "南大街", "北大街"}

// villageCommittee is a 村民委员会 (or 居民委员会) as a party: an
// organization without a credit code on file.
func (g *gen) villageCommittee(id string, role casework.PartyRole, c county, t township, village string, at time.Time) casework.Party {
	rep := g.newPerson(casework.GenderMale, "", 40, 62, at, c.code)
	name, place := village+"村村民委员会", village+"村"
	if t.urban {
		name, place = village+"居民委员会", village
	}
	return casework.Party{
		ID:                  id,
		Name:                name,
		Role:                role,
		Kind:                casework.KindUnincorporated,
		LegalRepresentative: rep.name,
		Address:             fmt.Sprintf("甘肃省庆阳市%s%s%s", c.name, t.name, place),
	}
}

// mediatorName returns a name no other mediator has.
func (g *gen) mediatorName(gender casework.Gender) string {
	for {
		given := pick(g, maleGiven)
		if gender == casework.GenderFemale {
			given = pick(g, femaleGiven)
		}
		name := pick(g, surnames) + given
		if !g.usedNames[name] {
			g.usedNames[name] = true
			return name
		}
	}
}
