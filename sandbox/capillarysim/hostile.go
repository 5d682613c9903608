package capillarysim

import "keyturn/sandbox/simnet"

// HostileFields is the text in this API's answers, for the sandbox's
// hostile mode: the status message (the role says which step comes next
// and stays; error codes are numbers; plain-text answers are tainted
// whole).
var HostileFields = simnet.TaintFields{Text: []string{"message"}}
