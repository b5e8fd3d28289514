# MLflow tracking server with boto3 for its S3 (MinIO) artifact store. Same pins as python/requirements-services.txt
# (test/static/docker-compose.test.ts checks that they agree).
FROM python:3.11-slim-bookworm
RUN pip install --no-cache-dir mlflow==3.17.2 boto3==1.44.5
RUN mkdir -p /mlflow
WORKDIR /mlflow
EXPOSE 5000
