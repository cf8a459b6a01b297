#include "textflag.h"

// func prefetch(p unsafe.Pointer)
TEXT ·prefetch(SB), NOSPLIT, $0-8
	MOVD	p+0(FP), R0
	PRFM	(R0), PLDL1KEEP
	RET

// func prefetchBytes(p unsafe.Pointer, n uintptr)
TEXT ·prefetchBytes(SB), NOSPLIT, $0-16
	MOVD	p+0(FP), R0
	MOVD	n+8(FP), R1
	CBZ	R1, done
	ADD	R0, R1, R2
	SUB	$1, R2 // the last byte
loop:
	PRFM	(R0), PLDL1KEEP
	ADD	$64, R0
	CMP	R2, R0
	BLS	loop
	PRFM	(R2), PLDL1KEEP // its line, when p is not at a line's start
done:
	RET
