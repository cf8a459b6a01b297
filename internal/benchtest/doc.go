// Package benchtest holds what benchmarks and load tests of several
// packages measure with: the process's CPU time, the steadier figure on a
// machine shared with other work.
package benchtest
