package store

import "time"

// TallySource is tallySource, for the tests.
var TallySource = tallySource

// TooSlow is tooSlow, for the tests.
var TooSlow = tooSlow

// SetCloseWait sets how long Close waits for changes in flight.
func SetCloseWait(s *Store, d time.Duration) { s.closeWait = d }
