"""MedAI Workbench: medical AI models with calibration, uncertainty, explanations and an audit trail.

Research use only; not a medical device. This package never imports Streamlit: the app in
``app.py``/``pages/`` and the command line (``python -m medai``) are thin layers over it.
"""

__version__ = "0.1.0"
