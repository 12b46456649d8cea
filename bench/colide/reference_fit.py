"""Fits the reference CoLiDE (from $COLIDE_REF) on a CSV and writes W and the wall time.
Usage: reference_fit.py X.csv {ev,nv} lambda T warm_iter max_iter lr s1,s2,... out_prefix"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.environ["COLIDE_REF"])
from model import colide_ev, colide_nv  # noqa: E402

x_csv, kind, lam, T, warm, mx, lr, s, out = sys.argv[1:10]
X = np.loadtxt(x_csv, delimiter=",")
model = colide_ev() if kind == "ev" else colide_nv()
t0 = time.perf_counter()
W, sigma = model.fit(X, lambda1=float(lam), T=int(T), warm_iter=int(warm), max_iter=int(mx),
                     lr=float(lr), s=[float(v) for v in s.split(",")])
secs = time.perf_counter() - t0
np.savetxt(out + "_W.csv", W, delimiter=",", fmt="%.17g")
with open(out + "_time.txt", "w") as f:
    f.write(f"{secs}\n")
