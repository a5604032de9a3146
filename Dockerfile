FROM python:3.13-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PLAYLISTER_DATA_DIR=/data
COPY pyproject.toml README.md ./
COPY playlister playlister
COPY jobs jobs
COPY enrichment enrichment
RUN pip install --no-cache-dir . uvicorn
COPY . .
