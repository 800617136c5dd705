package store

// TallySource is tallySource, for the tests.
var TallySource = tallySource
