#include "textflag.h"

// func prefetch(p unsafe.Pointer)
TEXT ·prefetch(SB), NOSPLIT, $0-8
	MOVQ	p+0(FP), AX
	PREFETCHT0	(AX)
	RET

// func prefetchBytes(p unsafe.Pointer, n uintptr)
TEXT ·prefetchBytes(SB), NOSPLIT, $0-16
	MOVQ	p+0(FP), AX
	MOVQ	n+8(FP), BX
	TESTQ	BX, BX
	JZ	done
	LEAQ	-1(AX)(BX*1), CX // the last byte
loop:
	PREFETCHT0	(AX)
	ADDQ	$64, AX
	CMPQ	AX, CX
	JLS	loop
	PREFETCHT0	(CX) // its line, when p is not at a line's start
done:
	RET
