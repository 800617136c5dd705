package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

// directory is the planned organizations and mediators, with the indexes
// routing needs. The maps are only looked up, never iterated.
type directory struct {
	orgs      []casework.Organization
	mediators []casework.Mediator
	// staff lists each organization's mediators (indexes into mediators).
	staff map[string][]int
	// load counts the cases assigned to each mediator so far.
	load []int
	// specialised[region][type] lists the organizations specialised in a
	// dispute type (the women's studio for marriage and family).
	specialised map[string]map[casework.DisputeType][]int
	// township[county code][i] is the committee of the county's i-th
	// township.
	township    map[string][]int
	courtCenter map[string]int
	stationed   map[string]map[casework.Source]int
}

// regionName gives the name of 庆阳市 or of a county.
func regionName(code string) string {
	if code == cityCode {
		return "庆阳市"
	}
	return countyByCode(code).name
}

// regionSlug gives the prefix of the organization ids of 庆阳市 or of a
// county.
func regionSlug(code string) string {
	if code == cityCode {
		return "qingyang"
	}
	return countyByCode(code).slug
}

func countyByCode(code string) county {
	i := slices.IndexFunc(counties, func(c county) bool { return c.code == code })
	if i < 0 {
		panic(fmt.Sprintf("demo: no county %s", code))
	}
	return counties[i]
}

// directory plans the organizations of 庆阳市 and its counties: 9
// 巾帼工作室, 29 specialised committees, the township and sub-district
// committees, the stationed rooms and a 诉调对接中心 per county court, each
// with its mediators.
func (g *gen) directory(at time.Time) *directory {
	d := &directory{
		staff:       map[string][]int{},
		specialised: map[string]map[casework.DisputeType][]int{},
		township:    map[string][]int{},
		courtCenter: map[string]int{},
		stationed:   map[string]map[casework.Source]int{},
	}
	add := func(o casework.Organization, staff int, specialties func() []casework.DisputeType, gender casework.Gender, roster func(i int) bool) int {
		o.Active = true
		o.Phone = g.landline()
		d.orgs = append(d.orgs, o)
		idx := len(d.orgs) - 1
		for i := range staff {
			m := casework.Mediator{
				ID:             fmt.Sprintf("m-%03d", len(d.mediators)+1),
				DisplayName:    g.mediatorName(gender),
				OrganizationID: o.ID,
				Specialties:    specialties(),
				CourtRoster:    roster(i),
				Phone:          g.mobile(),
				Active:         true,
			}
			d.staff[o.ID] = append(d.staff[o.ID], len(d.mediators))
			d.mediators = append(d.mediators, m)
		}
		return idx
	}
	specialise := func(region string, t casework.DisputeType, idx int) {
		if d.specialised[region] == nil {
			d.specialised[region] = map[casework.DisputeType][]int{}
		}
		d.specialised[region][t] = append(d.specialised[region][t], idx)
	}
	never := func(int) bool { return false }
	family := []casework.DisputeType{casework.DisputeMarriageFamily}

	// 巾帼工作室: the city's and one per county, staffed by women.
	regions := append([]string{cityCode}, countyCodes()...)
	for _, r := range regions {
		idx := add(casework.Organization{
			ID:           regionSlug(r) + "-women-studio",
			DisplayName:  regionName(r) + "妇联巾帼调解工作室",
			Type:         casework.OrgWomenStudio,
			RegionCode:   r,
			DisputeTypes: family,
			CourtRoster:  true,
			Address:      "甘肃省庆阳市" + cityPrefix(r) + "妇女联合会",
		}, 2, func() []casework.DisputeType { return family }, casework.GenderFemale, never)
		specialise(r, casework.DisputeMarriageFamily, idx)
	}

	// The specialised committees (专业性、类型化调解功能室).
	for _, room := range specialisedRooms {
		types := room.types
		rostered := room.region == cityCode && (room.slug == "medical" || room.slug == "traffic")
		idx := add(casework.Organization{
			ID:           regionSlug(room.region) + "-" + room.slug,
			DisplayName:  regionName(room.region) + room.name,
			Type:         casework.OrgProfessionalCommittee,
			RegionCode:   room.region,
			DisputeTypes: types,
			CourtRoster:  rostered,
			Address:      "甘肃省庆阳市" + cityPrefix(room.region) + "人民调解中心",
		}, room.staff, func() []casework.DisputeType { return types }, "", func(i int) bool { return rostered && i == 0 })
		for _, t := range types {
			specialise(room.region, t, idx)
		}
	}

	// The township and sub-district committees take every type.
	general := []casework.DisputeType{
		casework.DisputeNeighbor, casework.DisputeMarriageFamily, casework.DisputeHousingHomestead,
		casework.DisputeLandForestContract, casework.DisputeContractDebt, casework.DisputeDamages, casework.DisputeVillageAffairs,
	}
	twoOf := func(from []casework.DisputeType) func() []casework.DisputeType {
		return func() []casework.DisputeType {
			a := g.intn(len(from))
			b := (a + 1 + g.intn(len(from)-1)) % len(from)
			return []casework.DisputeType{from[min(a, b)], from[max(a, b)]}
		}
	}
	for _, c := range counties {
		for _, t := range c.townships {
			suffix, staff := "-township", 1
			if t.urban {
				suffix, staff = "-subdistrict", 2
			}
			idx := add(casework.Organization{
				ID:          c.slug + "-" + t.slug + suffix,
				DisplayName: c.name + t.name + "人民调解委员会",
				Type:        casework.OrgTownshipCommittee,
				RegionCode:  c.code,
				Address:     "甘肃省庆阳市" + c.name + t.name + "综治中心",
			}, staff, twoOf(general), "", never)
			d.township[c.code] = append(d.township[c.code], idx)
		}
	}

	// 派驻调解室 in courts, police stations and the petitions office.
	for _, s := range stationedRooms {
		var specialties []casework.DisputeType
		switch s.host {
		case casework.SourceCourtDelegated:
			specialties = []casework.DisputeType{casework.DisputeContractDebt, casework.DisputeDamages}
		case casework.SourcePolice:
			specialties = []casework.DisputeType{casework.DisputeDamages, casework.DisputeNeighbor}
		default:
			specialties = []casework.DisputeType{casework.DisputeLandRequisition, casework.DisputeVillageAffairs}
		}
		roster := s.roster
		idx := add(casework.Organization{
			ID:          regionSlug(s.region) + "-" + s.slug,
			DisplayName: s.name,
			Type:        casework.OrgStationedRoom,
			RegionCode:  s.region,
			CourtRoster: roster,
			Address:     "甘肃省庆阳市" + cityPrefix(s.region) + s.name,
		}, 1, func() []casework.DisputeType { return specialties }, "", func(int) bool { return roster })
		if d.stationed[s.region] == nil {
			d.stationed[s.region] = map[casework.Source]int{}
		}
		d.stationed[s.region][s.host] = idx
	}

	// A 诉调对接中心 at each county court, with a rostered (特邀) mediator.
	for _, c := range counties {
		idx := add(casework.Organization{
			ID:          c.slug + "-court-center",
			DisplayName: c.courtName + "诉调对接中心",
			Type:        casework.OrgCourtCenter,
			RegionCode:  c.code,
			CourtRoster: true,
			Address:     c.courtName + "诉讼服务中心",
		}, 1, twoOf([]casework.DisputeType{casework.DisputeContractDebt, casework.DisputeDamages, casework.DisputeTrafficAccident, casework.DisputeLabor}), "", func(int) bool { return true })
		d.courtCenter[c.code] = idx
	}

	for i := range d.orgs {
		d.orgs[i].CreateTime, d.orgs[i].UpdateTime = at, at
	}
	for i := range d.mediators {
		d.mediators[i].CreateTime, d.mediators[i].UpdateTime = at, at
	}
	d.load = make([]int, len(d.mediators))
	return d
}

// cityPrefix is how an address names a region below 庆阳市.
func cityPrefix(region string) string {
	if region == cityCode {
		return ""
	}
	return regionName(region)
}

func countyCodes() []string {
	out := make([]string, len(counties))
	for i, c := range counties {
		out[i] = c.code
	}
	return out
}

// route chooses the organization that takes a case, as a room lead would
// with SuggestAssignment at hand: court referrals go to the court's
// 诉调对接中心, its stationed room or (for families) the women's studio;
// police and petition cases often to the stationed room; otherwise the
// organization specialised in the dispute type in the county, else the
// committee of the township where the dispute arose.
func (g *gen) route(d *directory, c county, townshipIdx int, t casework.DisputeType, source casework.Source) int {
	spec := d.specialised[c.code][t]
	switch {
	case source.IsCourtReferral():
		switch {
		case t == casework.DisputeMarriageFamily && g.chance(0.6):
			return spec[0]
		case g.chance(0.55):
			return d.courtCenter[c.code]
		}
		if room, ok := d.stationed[c.code][casework.SourceCourtDelegated]; ok && g.chance(0.6) {
			return room
		}
	case source == casework.SourcePolice:
		if room, ok := d.stationed[c.code][casework.SourcePolice]; ok && g.chance(0.6) {
			return room
		}
	case source == casework.SourcePetitionOffice:
		if g.chance(0.5) {
			return d.stationed[cityCode][casework.SourcePetitionOffice]
		}
	}
	share, cityShare := 0.85, 0.3
	switch t {
	case casework.DisputeMarriageFamily:
		// Most family disputes stay with the village and township
		// committees; the city's studio takes some of the urban district's.
		share, cityShare = 0.5, 0
		if c.code == "621002" {
			cityShare = 0.3
		}
	case casework.DisputeContractDebt, casework.DisputeProductionBusiness:
		cityShare = 0.1 // the city's commercial committee takes the larger ones
	case casework.DisputeEnvironment:
		cityShare = 0.6 // only the city has an environment committee
	}
	city := d.specialised[cityCode][t]
	if len(city) > 0 && g.chance(cityShare) {
		return pick(g, city)
	}
	if len(spec) > 0 && g.chance(share) {
		return pick(g, spec)
	}
	return d.township[c.code][townshipIdx]
}

// mediatorOf picks the organization's mediator with the fewest cases so
// far, leaving out those in skip, and counts the case against them. It
// returns -1 when nobody is left.
func (d *directory) mediatorOf(org int, skip ...int) int {
	best := -1
	for _, m := range d.staff[d.orgs[org].ID] {
		if slices.Contains(skip, m) {
			continue
		}
		if best < 0 || d.load[m] < d.load[best] {
			best = m
		}
	}
	if best >= 0 {
		d.load[best]++
	}
	return best
}
