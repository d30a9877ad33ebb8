"""RNN Lens (placeholder until the app lands): the shipped models and one prediction."""
import streamlit as st

st.set_page_config(page_title="RNN Lens", page_icon="🔎")
st.title("RNN Lens")
st.write("Watch a recurrent network's memory change word by word. The full app is being built; meanwhile, "
         "`python -m rnn_core predict --model NAME TEXT` classifies a sentence.")
