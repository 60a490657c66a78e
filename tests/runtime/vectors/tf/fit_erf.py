#!/usr/bin/python3
"""Fits the erf polynomials of src/runtime/vmath.c (least squares on
Chebyshev nodes: relative for x P(x^2) on [0, 1], absolute in log erfc for
Q(x - 2.46) on [1, 3.92]), prints the float32 coefficients and the max ulp
error of a float32 Horner evaluation against math.erf."""
import numpy as np
from math import erf, erfc, log, exp
A0,B0=1.0,3.92
mid=(A0+B0)/2
def fitA(B, deg):
    xs = np.cos(np.linspace(0, np.pi, 6000))*0.5*B+0.5*B
    xs = xs[xs>1e-6]; z = xs*xs
    f = np.array([erf(x)/x for x in xs])
    V = np.vander(z, deg+1, increasing=True)
    c,*_ = np.linalg.lstsq(V/f[:,None], np.ones_like(f), rcond=None)
    return c
def fitB(deg):
    xs = np.cos(np.linspace(0, np.pi, 6000))*0.5*(B0-A0)+0.5*(B0+A0)
    f = np.array([log(erfc(x)) for x in xs])
    V = np.vander(xs-mid, deg+1, increasing=True)
    c,*_ = np.linalg.lstsq(V, f, rcond=None)
    return c
ca = fitA(1.0,6).astype(np.float32); cb = fitB(9).astype(np.float32)
print('A', [repr(float(v)) for v in ca]); print('B', [repr(float(v)) for v in cb])
f32=np.float32
def horner(c,t):
    r=c[-1]
    for v in c[-2::-1]: r=f32(r*t+v)
    return r
def ulp(a,b):
    ia=np.frombuffer(np.float32(a).tobytes(),np.int32)[0]; ib=np.frombuffer(np.float32(b).tobytes(),np.int32)[0]; return abs(int(ia)-int(ib))
mx=0
for x in np.linspace(1e-4,3.92,200001).astype(np.float32):
    if x<=1: y=f32(x*horner(ca,f32(x*x)))
    else:
        p=horner(cb,f32(x-f32(mid))); y=f32(1-f32(np.exp(np.float64(p))))
    r=np.float32(erf(float(x)))
    u=ulp(y,r)
    if u>mx: mx=u; print(x,u)
