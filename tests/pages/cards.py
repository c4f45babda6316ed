"""A hand-built model card with every section of :mod:`medai.cards`, for the renderer's tests."""

from __future__ import annotations

FULL_CARD = {
    "name": "demo-full",
    "version": "2.1.0",
    "date": "2026-11-25",
    "summary": "A demonstration card with every section: headline, confusion, curves, nested metrics.",
    "regulatory_status": "Research use only. Not a medical device.",
    "intended_use": "Testing the card renderer.",
    "not_intended_for": ["patients", "anything with a $ sign or *stars*"],
    "headline": [
        {"name": "ROC-AUC", "value": 0.9968, "ci95": [0.9941, 0.9988], "split": "validation",
         "higher_is_better": True, "baseline": {"prevalence only": 0.5}},
        {"name": "Sensitivity", "value": 0.959, "ci95": None, "split": "validation",
         "higher_is_better": True, "baseline": {}},
    ],
    "confusion": {"labels": ["normal", "pneumonia"], "matrix": [[221, 2], [26, 732]], "threshold": 0.856143},
    "curves": {
        "roc": {"x": [0.0, 0.01, 0.05, 1.0], "y": [0.0, 0.9, 0.97, 1.0]},
        "reliability": {"x": [0.05, 0.5, 0.95], "y": [0.04, 0.45, 0.97], "count": [120, 30, 600]},
        "parity": {"x": [-2.0, 0.0, 1.5], "y": [-1.8, 0.2, 1.4]},
    },
    "data": {"source": "Synthetic; " + "a long source description that must not be cut " * 5,
             "train_images": 4457},
    "recipe": {"input": {"formats": ["png", "jpeg"], "size": 128},
               "ensemble": [{"seed": 100, "val_auc": 0.995}, {"seed": 101, "val_auc": 0.9955}]},
    "metrics": {
        "validation": {
            "roc_auc": 0.9968, "roc_auc_95ci": [0.9941, 0.9988],
            "member_roc_auc": [0.995, 0.9955],
            "at_threshold_in_sample": {"accuracy": 0.971, "accuracy_95ci": [0.9588, 0.982]},
        },
        "refusal_rate_validation_xrays": 0.0026,
        "refusal_rate_out_of_distribution": {"colonoscopy, made grey": {"images": 300, "refused": 0.97}},
        "tasks": [{"task": "NR-AR", "roc_auc": 0.81}, {"task": "SR-p53", "roc_auc": 0.77}],
    },
    "limitations": ["Synthetic numbers; nothing here describes a real model, and this sentence is long on purpose "
                    "so that a renderer that cuts long values would fail the test."],
    "citation": "Nobody, 2026.",
}
