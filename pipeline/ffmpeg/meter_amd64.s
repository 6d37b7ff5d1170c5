#include "textflag.h"

// The meter's stereo filter chain on SSE2 (part of every amd64): the left
// and right channels go through the same biquads side by side, in the two
// lanes of each register, with each operation in the order runStereoGo
// does it, so that the results are the same to the bit.
//
// The biquads are packedBiquad structs, 112 bytes each: b0, b1, b2, a1,
// a2 (each twice, one per lane), then z1 and z2 (left, right).

// BIQUAD filters X0 (x, both channels) through the biquad at P(SI) with
// its state in Z1 and Z2, leaving y in X0; X1, X2 and X3 are scratch.
//   y  = b0*x + z1
//   z1 = b1*x - a1*y + z2
//   z2 = b2*x - a2*y
#define BIQUAD(P, Z1, Z2) \
	MOVAPD X0, X1; \
	MOVUPD P+0(SI), X2; \
	MULPD X2, X0; \
	ADDPD Z1, X0; \
	MOVUPD P+16(SI), Z1; \
	MULPD X1, Z1; \
	MOVUPD P+48(SI), X3; \
	MULPD X0, X3; \
	SUBPD X3, Z1; \
	ADDPD Z2, Z1; \
	MOVUPD P+32(SI), Z2; \
	MULPD X1, Z2; \
	MOVUPD P+64(SI), X3; \
	MULPD X0, X3; \
	SUBPD X3, Z2

// SETUP loads the arguments and clears the sums; X14 is the mask that
// clears a float64's sign.
#define SETUP \
	MOVQ p+0(FP), SI; \
	MOVQ s_base+8(FP), DI; \
	MOVQ s_len+16(FP), CX; \
	SHRQ $1, CX; \
	XORPD X12, X12; \
	XORPD X13, X13; \
	MOVQ $0x7fffffffffffffff, AX; \
	MOVQ AX, X14; \
	PUNPCKLQDQ X14, X14

// FRAME reads the next frame (two float32) into X0 as float64 and keeps
// the largest absolute sample of each channel in X13.
#define FRAME \
	CVTPS2PD (DI), X0; \
	MOVAPD X0, X2; \
	ANDPD X14, X2; \
	MAXPD X2, X13

// ENERGY adds y*y + v*v (left, then right) to X12's low lane, and steps
// to the next frame.
#define ENERGY \
	MULPD X0, X0; \
	MOVAPD X0, X2; \
	UNPCKHPD X2, X2; \
	ADDSD X2, X0; \
	ADDSD X0, X12; \
	ADDQ $8, DI; \
	DECQ CX

// RESULT returns the energy and the larger channel's peak.
#define RESULT \
	MOVSD X12, energy+32(FP); \
	MOVAPD X13, X2; \
	UNPCKHPD X2, X2; \
	MAXSD X2, X13; \
	MOVSD X13, peak+40(FP)

// func stereo2(p *[2]packedBiquad, s []float32) (energy, peak float64)
TEXT ·stereo2(SB), NOSPLIT, $0-48
	SETUP
	MOVUPD 80(SI), X4
	MOVUPD 96(SI), X5
	MOVUPD 192(SI), X6
	MOVUPD 208(SI), X7
	TESTQ CX, CX
	JZ done2
loop2:
	FRAME
	BIQUAD(0, X4, X5)
	BIQUAD(112, X6, X7)
	ENERGY
	JNZ loop2
done2:
	MOVUPD X4, 80(SI)
	MOVUPD X5, 96(SI)
	MOVUPD X6, 192(SI)
	MOVUPD X7, 208(SI)
	RESULT
	RET

// func stereo4(p *[4]packedBiquad, s []float32) (energy, peak float64)
TEXT ·stereo4(SB), NOSPLIT, $0-48
	SETUP
	MOVUPD 80(SI), X4
	MOVUPD 96(SI), X5
	MOVUPD 192(SI), X6
	MOVUPD 208(SI), X7
	MOVUPD 304(SI), X8
	MOVUPD 320(SI), X9
	MOVUPD 416(SI), X10
	MOVUPD 432(SI), X11
	TESTQ CX, CX
	JZ done4
loop4:
	FRAME
	BIQUAD(0, X4, X5)
	BIQUAD(112, X6, X7)
	BIQUAD(224, X8, X9)
	BIQUAD(336, X10, X11)
	ENERGY
	JNZ loop4
done4:
	MOVUPD X4, 80(SI)
	MOVUPD X5, 96(SI)
	MOVUPD X6, 192(SI)
	MOVUPD X7, 208(SI)
	MOVUPD X8, 304(SI)
	MOVUPD X9, 320(SI)
	MOVUPD X10, 416(SI)
	MOVUPD X11, 432(SI)
	RESULT
	RET
