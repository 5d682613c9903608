package account

// codesPerToken rotates the first tokens of a run that has a second-factor
// answer (or a server known to remember none) one at a time. The first
// goes with the answer. The second goes without it: a server that
// remembers the passed factor (Rocket.Chat's RememberFor) lets it through,
// and the rest follow; one that does not asks again (and mails a new code
// for the e-mail method), so the run stops there and each remaining token
// needs its own code. What was found is kept in the account's facts.
func (r *bulkRun) codesPerToken(work []int) (rest []int, stop bool) {
	if len(work) == 0 {
		return work, false
	}
	first := work[0]
	r.rotate(first)
	if r.item(first).Status != BulkOK {
		// No pass to remember; the item says why (a challenge, say).
		return work[1:], r.forgets
	}
	if len(work) == 1 {
		return nil, false
	}
	second := work[1]
	r.rotateAnswering(second, nil)
	it := r.item(second)
	switch {
	case it.Status == BulkFailed && it.Challenge != nil:
		r.setForgets(true)
		return nil, true
	case it.Status == BulkOK:
		r.setForgets(false)
	}
	return work[2:], false
}

// setForgets notes whether the server remembers a passed second factor,
// in the run and in the account's facts.
func (r *bulkRun) setForgets(forgets bool) {
	r.forgets = forgets
	f := r.s.currentFacts()
	if f.ForgetsSecondFactor == forgets {
		return
	}
	f.ForgetsSecondFactor = forgets
	r.m.rememberFacts(r.ctx, r.s, f)
}

// NextCode is what a run that stopped for a code per token asks for next:
// the challenge of the token it stopped at (a fresh e-mail code was sent),
// and how many tokens are left to rotate.
func (rep *BulkReport) NextCode() (*Challenge, int) {
	var ch *Challenge
	left := 0
	for _, it := range rep.Items {
		if it.Status != BulkFailed || it.NotSaved {
			continue
		}
		left++
		if ch == nil && it.Challenge != nil {
			ch = it.Challenge
		}
	}
	return ch, left
}
