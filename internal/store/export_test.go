package store

// TallySource is tallySource, for the tests.
var TallySource = tallySource

// TooSlow is tooSlow, for the tests.
var TooSlow = tooSlow
