# One image for all five services: `vocdesk run <service>` picks one.
# Production installs the core distribution only: never the `embedded` extra.

FROM python:3.12-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/vocdesk
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN /opt/vocdesk/bin/pip install --no-cache-dir . \
    && ! /opt/vocdesk/bin/pip show SecantusDB >/dev/null 2>&1

FROM python:3.12-slim-bookworm AS runtime
# Fax OCR needs Tesseract with Thai; PDF pages are rasterised with poppler.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-tha tesseract-ocr-eng poppler-utils \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 vocdesk \
    && useradd --system --uid 10001 --gid vocdesk --home-dir /app --shell /usr/sbin/nologin vocdesk
COPY --from=build /opt/vocdesk /opt/vocdesk
WORKDIR /app
ENV PATH=/opt/vocdesk/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VOCDESK_ENV=production \
    VOCDESK_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8000 8001 8002 8003 8004 2525
ENTRYPOINT ["vocdesk"]
CMD ["run", "console"]
