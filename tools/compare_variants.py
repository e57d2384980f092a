"""Median outcomes of scenario variants over seeds 1..N: drawdown, rise, liquidated notional,
hunter PnL, ADL — the sensitivity tables in docs/market.md.

    cargo build --release
    python3 tools/compare_variants.py scenarios/btc_14_to_1.ron 6 \
      '[["default", []], ["thin index", [["index: (drift_pct: 0.0)", "index: (drift_pct: 0.0, spot_depth_scale: 1.0)"]]]]'

Each variant is a list of (text, replacement) edits applied to the scenario file.
"""
import json, os, pathlib, shutil, subprocess, sys, statistics, tempfile
ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = str(ROOT / "target/release/liqsim")
TMP = tempfile.mkdtemp(prefix="liqsim-variants-")
def variant(src, repl, name):
    s=open(src).read()
    for a,b in repl: 
        assert a in s, a
        s=s.replace(a,b,1)
    p=f"{TMP}/{name.replace(' ', '_')}.ron"; open(p,"w").write(s); return p
def stats(scn, seeds, tag):
    out=[]
    for seed in range(1,seeds+1):
        o=f"{TMP}/{tag.replace(' ', '_')}_{seed}"
        subprocess.run([BIN,"run",scn,"--seed",str(seed),"--out",o,"--quiet"],check=True)
        s=json.load(open(o+"/summary.json")); shutil.rmtree(o, ignore_errors=True)
        dd=min(s['min_price']/s['start_price']-1, 0); up=s['max_price']/s['start_price']-1
        liq=s['liquidated_notional_long']+s['liquidated_notional_short']
        out.append((dd,up,liq,s['hunter_pnl'],s['adl_notional']))
    med=lambda i: statistics.median(x[i] for x in out)
    return med(0),med(1),med(2),med(3),med(4)
if __name__=="__main__":
    src=sys.argv[1]; seeds=int(sys.argv[2]); pairs=json.loads(sys.argv[3])
    for name,repl in pairs:
        p=variant(src,repl,name)
        dd,up,liq,pnl,adl=stats(p,seeds,name)
        print(f"{name:28s} median drawdown {dd*100:7.2f}%  rise {up*100:6.2f}%  liquidated ${liq/1e6:9.1f}M  hunter PnL ${pnl/1e6:8.1f}M  ADL ${adl/1e6:8.1f}M")
