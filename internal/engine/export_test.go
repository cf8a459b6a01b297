package engine

// Frozen returns an engine that answers from e's current state forever,
// like a reader that loaded the state before an Apply: copy-on-write
// promises that no later Apply changes what it sees.
func Frozen(e *Engine) *Engine {
	f := &Engine{gen: e.gen}
	f.cur.Store(e.snapshot())
	return f
}
