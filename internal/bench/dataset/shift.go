package dataset

import (
	"reflect"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

var (
	timeType     = reflect.TypeFor[time.Time]()
	locationType = reflect.TypeFor[*time.Location]()
)

// shiftTimes adds d to every time.Time reachable from v (a pointer),
// following pointers, slices and struct fields, and moves the agreements'
// calendar dates (sign date, obligations' due dates, kept as YYYY-MM-DD
// strings) by the same number of days. v must have been deep-copied: the
// values it points to are changed in place.
func shiftTimes(v any, d time.Duration) {
	shiftValue(reflect.ValueOf(v), d)
}

func shiftValue(v reflect.Value, d time.Duration) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || v.Type() == locationType {
			return
		}
		if a, ok := v.Interface().(*casework.Agreement); ok {
			a.SignDate = shiftDate(a.SignDate, d)
			for i := range a.Obligations {
				a.Obligations[i].DueDate = shiftDate(a.Obligations[i].DueDate, d)
			}
		}
		shiftValue(v.Elem(), d)
	case reflect.Struct:
		if v.Type() == timeType {
			if t := v.Interface().(time.Time); !t.IsZero() && v.CanSet() {
				v.Set(reflect.ValueOf(t.Add(d)))
			}
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				shiftValue(f, d)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			shiftValue(v.Index(i), d)
		}
	}
}

// shiftDate moves a YYYY-MM-DD date by d (whole days); other strings are
// left as they are.
func shiftDate(s string, d time.Duration) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Add(d).Format(time.DateOnly)
}

// clone deep-copies a planned registration and its steps, so that shifting
// them leaves the template alone. Pointers, slices and maps are copied;
// strings are shared (immutable).
func clone[T any](v T) T {
	return cloneValue(reflect.ValueOf(&v).Elem()).Interface().(T)
}

func cloneValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || v.Type() == locationType {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(cloneValue(v.Elem()))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(cloneValue(v.Index(i)))
		}
		return s
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			m.SetMapIndex(it.Key(), cloneValue(it.Value()))
		}
		return m
	case reflect.Struct:
		if v.Type() == timeType {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(v) // unexported fields as they are
		for i := range v.NumField() {
			if f := out.Field(i); f.CanSet() {
				f.Set(cloneValue(v.Field(i)))
			}
		}
		return out
	}
	return v
}
