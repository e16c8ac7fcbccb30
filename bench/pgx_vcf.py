#!/usr/bin/env python3
"""Writes a multi-sample VCF at every position of medtwin's allele definitions (data/pgx):
each sample gets, per gene, a random pair of defined alleles (unphased). Usage:
pgx_vcf.py SAMPLES OUT.vcf [SEED]"""
import glob, json, os, random, sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
root = os.path.join(os.path.dirname(__file__), '..', 'data', 'pgx', 'alleles')
IUPAC = {'R': 'AG', 'Y': 'CT', 'S': 'GC', 'W': 'AT', 'K': 'GT', 'M': 'AC'}
lines = []
for path in sorted(glob.glob(os.path.join(root, '*_translation.json'))):
    d = json.load(open(path))
    ref = d['namedAlleles'][0]['alleles']
    alleles = [a['alleles'] for a in d['namedAlleles'] if not a['structuralVariant']]
    pairs = [(rng.choice(alleles), rng.choice(alleles)) for _ in range(n)]
    for k, v in enumerate(d['variants']):
        known = [v['ref']] + v['alts']
        def index(a):
            base = a[k] if a[k] is not None else ref[k]
            for b in ([base] if base in known else list(IUPAC.get(base, base))):
                if b in known:
                    return known.index(b)
            return 0
        gts = '\t'.join(f'{index(x)}/{index(y)}' for x, y in pairs)
        lines.append((v['chromosome'], v['position'],
                      f"{v['chromosome']}\t{v['position']}\t{v.get('rsid') or '.'}\t{v['ref']}\t"
                      f"{','.join(v['alts']) or '.'}\t.\tPASS\t.\tGT\t{gts}"))
lines.sort(key=lambda x: (x[0], x[1]))
with open(out, 'w') as f:
    f.write('##fileformat=VCFv4.2\n##contig=<ID=chr10,assembly=GRCh38.p14>\n')
    f.write('#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t' +
            '\t'.join(f'S{i}' for i in range(n)) + '\n')
    for _, _, line in lines:
        f.write(line + '\n')
