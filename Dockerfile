# RNN Lens for self-hosting: docker build -t rnn-lens . && docker run -p 8501:8501 rnn-lens
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

WORKDIR /app

# The CPU build of torch first: PyPI's default torch wheel for Linux is the multi-GB CUDA build. The pin in
# requirements.txt (torch==2.13.0) is then already satisfied.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install -r requirements.txt

COPY app.py ./
COPY app_pages ./app_pages
COPY rnn_core ./rnn_core
COPY assets/models ./assets/models
COPY .streamlit ./.streamlit

# Never run the server as root.
RUN useradd --create-home --uid 10001 rnnlens
USER 10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
