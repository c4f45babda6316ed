"""The shipped drug models: which data each learns, its output columns and its card text (data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from medai.drug.datasets import TOX21_TASKS

MOLECULENET = "Wu Z et al. MoleculeNet: a benchmark for molecular machine learning. Chem Sci 9:513-530 (2018)"


@dataclass(frozen=True)
class DrugModelInfo:
    """What a drug model predicts and how its card describes it.

    ``version`` is the one its recipe produces: it changes only with that model's own recipe, so a
    retrained model is labelled as what it is in the audit records. ``graph_networks``: whether its
    ensemble has message-passing members (in the models that missed a target on validation and whose
    validation figure they improved; README, "Graph networks where they are")."""

    name: str
    dataset: str
    tasks: tuple[str, ...]
    unit: str
    summary: str
    intended_use: str
    source: str
    limitations: list[str]
    citation: str
    graph_networks: bool = False
    version: str = field(kw_only=True)


DRUG_MODELS = {info.name: info for info in [
    DrugModelInfo("drug-solubility", "esol", ("logS",), "log10 mol/L",
                  "Aqueous solubility (logS, log10 mol/L) of a small organic molecule, with its uncertainty.",
                  "Prioritising and comparing candidate molecules in early discovery and teaching.",
                  "ESOL (Delaney JS, J Chem Inf Comput Sci 44:1000-1005, 2004), MoleculeNet copy",
                  ["About 1,000 training molecules, mostly small pesticide- and solvent-like compounds; "
                   "drug-sized molecules are under-represented.", "Measured at about 25 °C; pH not controlled."],
                  f"Delaney 2004; {MOLECULENET}", graph_networks=True, version="1.3.0"),
    DrugModelInfo("drug-lipophilicity", "lipophilicity", ("logD",), "log units",
                  "Octanol/water distribution coefficient at pH 7.4 (logD), with its uncertainty.",
                  "Prioritising and comparing candidate molecules in early discovery and teaching.",
                  "ChEMBL lipophilicity set (AstraZeneca deposition), MoleculeNet copy",
                  ["Measured range roughly -1.5 to 4.5; predictions outside it are extrapolation."],
                  f"Gaulton A et al. NAR 2012; {MOLECULENET}", graph_networks=True, version="1.3.0"),
    DrugModelInfo("drug-tox21", "tox21", tuple(f"tox21_{task}" for task in TOX21_TASKS), "probability",
                  "Probability of activity in each of the 12 Tox21 nuclear-receptor and stress-response assays.",
                  "Flagging likely in-vitro assay liabilities for follow-up; not a toxicity verdict.",
                  "Tox21 Data Challenge 2014 (NIH/NCATS), MoleculeNet copy",
                  ["In-vitro assay activity, not in-vivo toxicity.",
                   "Actives are rare (2-16 % per task); a high probability is a prompt to test, not a finding."],
                  f"Tox21 Data Challenge 2014; {MOLECULENET}", graph_networks=True, version="1.3.0"),
    DrugModelInfo("drug-bbbp", "bbbp", ("bbb_penetration",), "probability",
                  "Probability that a molecule penetrates the blood-brain barrier.",
                  "Early triage of CNS exposure (wanted or unwanted).",
                  "BBBP (Martins IF et al. J Chem Inf Model 52:1686-1697, 2012), MoleculeNet copy",
                  ["Binary labels from mixed literature sources; validated on rare scaffolds only."],
                  f"Martins 2012; {MOLECULENET}", version="1.2.0"),
    DrugModelInfo("drug-clintox", "clintox", ("clinical_toxicity",), "probability",
                  "Probability that a molecule failed clinical trials for toxicity (ClinTox CT_TOX).",
                  "Comparing candidates with approved drugs and toxicity failures; research only.",
                  "ClinTox (Gayvert KM et al. Cell Chem Biol 23:1294-1301, 2016), MoleculeNet copy",
                  ["Only about 100 toxic examples; the interval is wide.",
                   "Trial failure has many causes; this is not a safety assessment."],
                  f"Gayvert 2016; {MOLECULENET}", version="1.2.0"),
    DrugModelInfo("drug-bace", "bace", ("bace1_active",), "probability",
                  "Probability that a molecule inhibits BACE-1 with IC50 <= 100 nM.",
                  "Ranking candidate BACE-1 inhibitors; a worked example of target-activity prediction.",
                  "BACE (Subramanian G et al. J Chem Inf Model 56:1936-1949, 2016), MoleculeNet copy",
                  ["One target; the training molecules are mostly from BACE-1 programmes, so other chemotypes "
                   "are out of domain.",
                   "A chemical series absent from training can be missed while still in domain: verubecestat (a "
                   "2 nM BACE-1 inhibitor with an iminothiadiazinane dioxide head group that no training molecule "
                   "has) scores about 20 %."],
                  f"Subramanian 2016; {MOLECULENET}", version="1.2.0"),
]}
