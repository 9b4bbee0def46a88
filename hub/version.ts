/** LabHub's own version (the JupyterHub API version it speaks is JUPYTERHUB_VERSION in api/models.ts). */
export const LABHUB_VERSION = '0.1.0';
