"""The cold-start yardstick for python -m bench: the least any app with our stack pays on a first visit
(Streamlit, torch and plotly imported, one line of text, one tiny chart), measured exactly like app.py."""
import plotly.graph_objects as go
import streamlit as st
import torch

# The same kind of line the real page shows, so the bench waits for the same thing in both apps.
st.markdown(f"### Minimal app · P(positive) = {torch.sigmoid(torch.zeros(())).item():.3f}")
st.plotly_chart(go.Figure(go.Scatter(x=[0, 1, 2], y=[0, 1, 0])), config={"displayModeBar": False})
