"""Calm-market facts over seeds: the basis's 99th percentile, the largest one-minute move, and the
one-minute return tail index (Hill) — the must-shows in docs/market.md.

    cargo build --release
    python3 tools/calm_facts.py scenarios/no_hunters.ron 20
"""
import csv, json, math, os, pathlib, subprocess, sys, statistics, tempfile
ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = str(ROOT / "target/release/liqsim")
TMP = tempfile.mkdtemp(prefix="liqsim-calm-")
def run(scn, seed, out):
    subprocess.run([BIN,"run",scn,"--seed",str(seed),"--out",out,"--quiet"],check=True)
    rows=list(csv.DictReader(open(out+"/ticks.csv")))
    s=json.load(open(out+"/summary.json"))
    pathlib.Path(out, "events.log").unlink(missing_ok=True)
    return rows,s
def hill(xs,k):
    xs=sorted(xs,reverse=True)[:k+1]
    return k/sum(math.log(xs[i]/xs[k]) for i in range(k))
if __name__=="__main__":
    scn=sys.argv[1]; seeds=int(sys.argv[2])
    bases=[]; moves=[]; rets=[]
    for seed in range(1,seeds+1):
        rows,s=run(scn,seed,f"{TMP}/o{seed}")
        last=[float(r['last']) for r in rows]; idx=[float(r['index']) for r in rows]; mark=[float(r['mark']) for r in rows]
        bases += [abs(l/i-1) for l,i in zip(last,idx)]
        m=[mark[i] for i in range(0,len(mark),60)]
        r=[math.log(m[i+1]/m[i]) for i in range(len(m)-1)]
        rets += [abs(x) for x in r if x!=0]
        moves.append(max(abs(x) for x in r))
    bases.sort()
    p99=bases[int(0.99*len(bases))]
    print(f"runs {seeds}, ticks {len(bases)}: p99 |last/index-1| = {p99*100:.3f}%  p50 = {bases[len(bases)//2]*100:.4f}%  max = {bases[-1]*100:.3f}%")
    print(f"largest one-minute |move| per run: max {max(moves)*100:.3f}% median {statistics.median(moves)*100:.3f}%")
    k=max(10,len(rets)//20)
    print(f"one-minute |return| tail index (Hill, top {k} of {len(rets)}): {hill(rets,k):.2f}")
